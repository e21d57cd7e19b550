/*
 * replication/etcd.h: HTTP calls to etcd's JSON gateway, with libcurl, off the reactor thread.
 * Carries request and answer bodies; knows nothing of what they mean (etcd_json.h does).
 *
 * Threading: one curl multi handle runs every call and stream at once, driven by a helper job
 * (reactor_offload) that polls it for at most ETCD_SLICE_MS and then hands what arrived back
 * to the reactor in its done(), where the callbacks below run; while calls are open, done()
 * offloads the job again. New calls wake a running slice (curl_multi_wakeup), so they do not
 * wait for it to end. The slice bound exists because HELPER_THREADS is 1: a watch stream is
 * open for as long as the broker runs, and segment rolls and checkpoints queue behind the job.
 *
 * Endpoints: "host:port[,host:port...]" (at most ETCD_ENDPOINTS_MAX). A call goes to the
 * endpoint that last answered; when it cannot connect (refused, or no connection within
 * ETCD_CONNECT_TIMEOUT_MS) the next one is tried, until every endpoint was tried once or the
 * call's deadline passed. Only a failure to connect moves on: a request that may have reached
 * etcd is never sent twice (the caller decides; for a write the outcome is unknown).
 *
 * Every call sends "Grpc-Metadata-hasleader: true": a member that lost its leader then refuses
 * a watch instead of holding it open silently.
 */
#ifndef TAPE_REPLICATION_ETCD_H
#define TAPE_REPLICATION_ETCD_H

#include "io/reactor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd;
struct etcd_call;

struct etcd_call {
	/* Set by the caller before etcd_call_start. */
	const char *path; /* "/v3/kv/range"; static */
	char *body;       /* owned by the call from etcd_call_start on (free()d by it) */
	bool stream;      /* deliver each newline-delimited message through message() */
	void (*message)(struct etcd_call *c, const char *json, size_t len); /* stream only */
	void (*done)(struct etcd_call *c);                                  /* once */

	/* The answer, valid until done returns. err: 0 (an HTTP answer came, whatever its
	 * status), -ECONNREFUSED (no endpoint connected), -ETIMEDOUT, -TAPE_ETOOLARGE (an answer
	 * or message over ETCD_RESPONSE_BYTES_MAX), -ECANCELED, -EIO (the connection broke). A
	 * stream's done always means it ended. */
	int err;
	long http_status;
	char *response; /* unary: the body, NUL-terminated */
	size_t response_len;

	/* Private to etcd.c. */
	struct etcd *e;
	void *easy;
	int endpoint; /* index tried last */
	int attempts;
	int64_t deadline_ns;
	char *rx; /* received bytes not yet delivered (stream: a partial line) */
	size_t rx_len, rx_cap;
	struct etcd_msg *msgs_head, *msgs_tail; /* stream messages for the reactor */
	bool finished, cancel_asked, in_multi, too_large;
	struct etcd_call *next;      /* inbox or active list */
	struct etcd_call *next_done; /* finished, for the reactor */
};

/* Returns 0, -TAPE_ECONFIG (endpoints not "host:port[,...]"), -ENOMEM. */
int etcd_create(struct reactor *r, const char *endpoints, struct etcd **out);
/* Starts c (c->path, c->body, c->done and, for a stream, c->message set). */
void etcd_call_start(struct etcd *e, struct etcd_call *c);
/* Frees what the call holds (body, response, undelivered messages); the owner calls it in or
 * after done, never before. */
void etcd_call_release(struct etcd_call *c);
/* Asks c to end: done comes later, with -ECANCELED unless it ended already. */
void etcd_call_cancel(struct etcd *e, struct etcd_call *c);
/* Cancels every call, then calls closed(arg) on the reactor thread and frees e. */
void etcd_close(struct etcd *e, void (*closed)(void *arg), void *arg);

#endif
