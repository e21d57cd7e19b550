/*
 * server/main.c: taped, the broker.
 *
 *   taped [server.properties] [--override key=value]... [--print-config]
 *
 * SIGTERM and SIGINT stop it gracefully (server_stop); SIGPIPE is ignored (sends use
 * MSG_NOSIGNAL anyway). Exit status: 0 after a graceful stop, 1 when it cannot start (the
 * message names the key or the path), 2 for a usage error.
 */
#include "base/assert.h"
#include "base/diag.h"
#include "base/errors.h"
#include "server/replica.h"
#include "server/server_main.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct signal_watch {
	struct io_op op;
	int fd;
	struct signalfd_siginfo info;
	bool fired;
};

static void signalled(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct signal_watch *s = container_of(op, struct signal_watch, op);
	if (res == (int32_t)sizeof(s->info))
		s->fired = true;
	if (!s->fired)
		reactor_read(op->reactor, &s->op, signalled, s->fd, &s->info, sizeof(s->info), 0);
}

static int usage(void)
{
	fprintf(stderr, "usage: taped [server.properties] [--override key=value]... "
	                "[--print-config]\n");
	return 2;
}

static int configure(struct config *cfg, int argc, char **argv)
{
	char err[512];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--print-config") == 0) {
			config_print_sample(stdout);
			exit(0);
		} else if (strcmp(argv[i], "--override") == 0 && i + 1 < argc) {
			char *kv = argv[++i];
			char *eq = strchr(kv, '=');
			if (!eq) {
				fprintf(stderr, "taped: --override %s: expected key=value\n", kv);
				return 2;
			}
			*eq = '\0';
			if (config_set(cfg, kv, eq + 1, err, sizeof(err)) < 0) {
				fprintf(stderr, "taped: --override: %s\n", err);
				return 1;
			}
		} else if (argv[i][0] == '-' || i != 1) {
			return usage();
		} else if (config_load_file(cfg, argv[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "taped: %s\n", err);
			return 1;
		}
	}
	if (config_check(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "taped: %s\n", err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	config_init(&cfg);
	int rc = configure(&cfg, argc, argv);
	if (rc) {
		config_free(&cfg);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	struct signal_watch sig = { .fd = signalfd(-1, &mask, SFD_CLOEXEC) };
	struct reactor *r;
	rc = reactor_create(&r);
	if (rc < 0 || sig.fd < 0) {
		fprintf(stderr, "taped: cannot start the reactor: %s\n", tape_strerror(rc));
		config_free(&cfg);
		return 1;
	}
	struct server srv;
	rc = server_start(&srv, r, &cfg);
	if (rc < 0) {
		fprintf(stderr, "taped: cannot start: %s\n", tape_strerror(rc));
		reactor_destroy(r);
		config_free(&cfg);
		return 1;
	}
	printf("taped: listening on %s:%u (advertised %s:%d), data in %s\n",
	       strcmp(srv.advertised_host, "localhost") == 0 ? "localhost" : srv.advertised_host,
	       srv.port, srv.advertised_host, srv.advertised_port, config_str(&cfg, CFG_LOG_DIRS));
	fflush(stdout);
	reactor_read(r, &sig.op, signalled, sig.fd, &sig.info, sizeof(sig.info), 0);
	while (!sig.fired) {
		rc = reactor_run_once(r, srv.replicas ? 100 * 1000000 : -1);
		if (rc < 0) {
			diag_error("reactor: %s", tape_strerror(rc));
			break;
		}
		replica_main_loop(&srv);
	}
	diag_info("signal %u: stopping", sig.info.ssi_signo);
	server_stop(&srv);
	close(sig.fd);
	reactor_destroy(r);
	config_free(&cfg);
	diag_info("stopped");
	return 0;
}
