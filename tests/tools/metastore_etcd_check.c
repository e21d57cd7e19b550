/*
 * tests/tools/metastore_etcd_check.c: the etcd metadata store against a real etcd, started here.
 * Run by tests/integration/metastore_etcd.sh; exits 0 (pass), 77 (etcd not installed: skipped,
 * said loudly) or 1 (a failure, named).
 *
 * Starts Debian's etcd on two free loopback ports with a temp data dir of its own, then runs:
 *   - every shared test of tests/support/metastore_suite.c (the same bodies the local store
 *     passes), each under a key prefix of its own: revisions, CAS, transactions, a lease that
 *     expires once keepalives stop, watches and their resume, a watch started before a
 *     compaction re-reading its prefix (etcd's compact_revision answer), and a CAS race
 *     between two clients (two stores, two curl handles) where exactly one wins each round;
 *   - a watch that survives an etcd restart: the etcd PID started here is killed with SIGKILL,
 *     calls fail fast meanwhile, etcd restarts on the same data dir and ports, and the watch
 *     delivers what is written afterwards, each event once;
 *   - endpoint failover: a dead endpoint listed first is skipped; all endpoints dead fails
 *     within ETCD_CALL_TIMEOUT_MS.
 * Only the etcd started here is ever signalled, by its PID; it is stopped on every exit path.
 */
#include "tests/support/metastore_suite.h"

#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t etcd_pid = -1;
static char data_dir[64];
static int client_port, peer_port;
static char spec[128];

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("free_port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

static void etcd_start(void)
{
	char client[64], peer[64], cluster[96], log[96];
	snprintf(client, sizeof(client), "http://127.0.0.1:%d", client_port);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", peer_port);
	snprintf(cluster, sizeof(cluster), "default=%s", peer);
	snprintf(log, sizeof(log), "%s.log", data_dir);
	etcd_pid = fork();
	if (etcd_pid == 0) {
		/* etcd dies with this process, however it ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		FILE *f = freopen(log, "a", stderr);
		(void)f;
		execlp("etcd", "etcd", "--data-dir", data_dir, "--listen-client-urls", client,
		       "--advertise-client-urls", client, "--listen-peer-urls", peer,
		       "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
		       (char *)NULL);
		_exit(127);
	}
}

static void etcd_kill(void)
{
	if (etcd_pid <= 0)
		return;
	kill(etcd_pid, SIGKILL);
	waitpid(etcd_pid, NULL, 0);
	etcd_pid = -1;
}

static void cleanup(void)
{
	etcd_kill();
	if (data_dir[0]) {
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "rm -rf %s %s.log", data_dir, data_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", data_dir);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	cleanup();
	_exit(1);
}

static int etcd_open(struct ms_env *env, struct metastore **out)
{
	return metastore_open(env->r, spec, NULL, out);
}

/* Waits until etcd answers a range. */
static bool etcd_ready(struct ms_env *env, double seconds)
{
	int64_t end = clock_mono_ns() + (int64_t)(seconds * 1e9);
	while (clock_mono_ns() < end) {
		struct metastore *ms;
		if (etcd_open(env, &ms) != 0)
			return false;
		struct ms_got g = ms_get(env, ms, "/ready");
		ms_close(env, ms);
		if (g.err == 0)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static char why[512];
#define CHECK(cond, ...)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			int n_ = snprintf(why, sizeof(why), "line %d: %s: ", __LINE__, #cond); \
			snprintf(why + n_, sizeof(why) - (size_t)n_, __VA_ARGS__);             \
			return why;                                                            \
		}                                                                              \
	} while (0)

static const char *test_watch_survives_restart(struct ms_env *env)
{
	struct metastore *ms;
	CHECK(etcd_open(env, &ms) == 0, "open");
	char w[96], a[96], b[96];
	snprintf(w, sizeof(w), "%sw/", env->prefix);
	snprintf(a, sizeof(a), "%sw/a", env->prefix);
	snprintf(b, sizeof(b), "%sw/b", env->prefix);
	struct ms_watcher mw;
	CHECK(ms_watch(ms, &mw, w, 0) == 0, "watch");
	ms_sleep(env, 0.3);
	struct ms_got pa = ms_put(env, ms, a, "before", 0);
	CHECK(pa.err == 0, "put: %s", tape_strerror(pa.err));
	CHECK(ms_wait_events(env, &mw, 1, 5), "first event");

	etcd_kill();
	int64_t t0 = clock_mono_ms();
	struct ms_got down = ms_put(env, ms, b, "lost", 0);
	int64_t took = clock_mono_ms() - t0;
	CHECK(down.err == -ECONNREFUSED, "put while etcd is down: %s", tape_strerror(down.err));
	CHECK(took < ETCD_CALL_TIMEOUT_MS + 500, "a refused call took %lld ms", (long long)took);
	ms_sleep(env, 1.0); /* the watch retries meanwhile */
	etcd_start();
	CHECK(etcd_ready(env, 15), "etcd did not come back");
	struct ms_got pb = ms_put(env, ms, b, "after", 0);
	CHECK(pb.err == 0, "put after restart: %s", tape_strerror(pb.err));
	CHECK(ms_wait_events(env, &mw, 2, 10), "no event after the restart (%zu)", mw.events);
	ms_sleep(env, 0.5);
	CHECK(mw.events == 2, "%zu events: one was delivered twice", mw.events);
	CHECK(!strcmp(mw.ev[1].key, b) && !strcmp(mw.ev[1].value, "after") &&
	          mw.ev[1].mod_revision == pb.revision,
	      "second event %s=%s @%lld", mw.ev[1].key, mw.ev[1].value,
	      (long long)mw.ev[1].mod_revision);
	CHECK(mw.resets == 0 && mw.err == 0, "resets %zu err %d", mw.resets, mw.err);
	metastore_watch_stop(&mw.w);
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

static const char *test_endpoints(struct ms_env *env)
{
	char saved[128];
	snprintf(saved, sizeof(saved), "%s", spec);
	int dead = free_port();
	snprintf(spec, sizeof(spec), "etcd://127.0.0.1:%d,127.0.0.1:%d", dead, client_port);
	struct metastore *ms;
	CHECK(etcd_open(env, &ms) == 0, "open");
	char k[96];
	snprintf(k, sizeof(k), "%sk", env->prefix);
	struct ms_got p = ms_put(env, ms, k, "v", 0);
	CHECK(p.err == 0, "put past a dead endpoint: %s", tape_strerror(p.err));
	CHECK(ms_get(env, ms, k).count == 1, "get");
	CHECK(ms_close(env, ms) == 0, "close");

	snprintf(spec, sizeof(spec), "etcd://127.0.0.1:%d,127.0.0.1:%d", dead, free_port());
	CHECK(etcd_open(env, &ms) == 0, "open");
	int64_t t0 = clock_mono_ms();
	struct ms_got g = ms_get(env, ms, k);
	CHECK(g.err == -ECONNREFUSED, "all endpoints dead: %s", tape_strerror(g.err));
	CHECK(clock_mono_ms() - t0 < ETCD_CALL_TIMEOUT_MS + 500, "took %lld ms",
	      (long long)(clock_mono_ms() - t0));
	CHECK(ms_close(env, ms) == 0, "close");
	snprintf(spec, sizeof(spec), "%s", saved);
	return NULL;
}

int main(int argc, char **argv)
{
	if (system("command -v etcd >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: etcd is not installed (scripts/install-deps.sh installs "
		                "etcd-server)\n");
		return 77;
	}
	snprintf(data_dir, sizeof(data_dir), "/tmp/tape-etcd-XXXXXX");
	if (!mkdtemp(data_dir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, on_signal);
	signal(SIGALRM, on_signal);
	alarm(300); /* a hang fails the run rather than holding it */
	client_port = free_port();
	peer_port = free_port();
	snprintf(spec, sizeof(spec), "etcd://127.0.0.1:%d", client_port);
	etcd_start();

	if (getenv("TAPE_DEBUG"))
		diag_set_level(DIAG_DEBUG);
	struct ms_env env = { .open = etcd_open };
	if (reactor_create(&env.r) != 0)
		return 1;
	if (!etcd_ready(&env, 20)) {
		fprintf(stderr, "FAIL: etcd did not answer on port %d within 20 s; see %s.log\n",
		        client_port, data_dir);
		return 1;
	}
	struct ms_test extra[] = {
		{ "watch_survives_restart", test_watch_survives_restart },
		{ "endpoints", test_endpoints },
	};
	int failed = 0;
	size_t total = ms_tests_count + sizeof(extra) / sizeof(extra[0]);
	for (size_t i = 0; i < total; i++) {
		const struct ms_test *t =
		    i < ms_tests_count ? &ms_tests[i] : &extra[i - ms_tests_count];
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue; /* metastore_etcd_check [NAME]: the tests whose name holds NAME */
		snprintf(env.prefix, sizeof(env.prefix), "/check-%d/%s/", (int)getpid(), t->name);
		int64_t t0 = clock_mono_ms();
		const char *err = t->fn(&env);
		printf("%s %s (%lld ms)%s%s\n", err ? "FAIL" : "ok  ", t->name,
		       (long long)(clock_mono_ms() - t0), err ? ": " : "", err ? err : "");
		fflush(stdout);
		failed += err != NULL;
	}
	reactor_destroy(env.r);
	printf("metastore_etcd: %zu tests, %d failed\n", total, failed);
	return failed ? 1 : 0;
}
