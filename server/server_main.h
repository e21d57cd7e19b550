/*
 * server/server_main.h: starting and stopping a broker (server.c), for main.c and tests.
 */
#ifndef TAPE_SERVER_SERVER_MAIN_H
#define TAPE_SERVER_SERVER_MAIN_H

#include "server/server.h"

/* Opens the data directory (recovering partitions), then the listeners. 0 or -errno. */
int server_start(struct server *srv, struct reactor *r, struct config *cfg);
/* The graceful stop (see server.c). Blocking: runs the reactor until done. */
void server_stop(struct server *srv);

#endif
