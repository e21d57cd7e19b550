/*
 * replication/metastore_etcd.c: placeholder until the etcd client lands.
 */
#include "replication/metastore.h"

#include "base/errors.h"

int metastore_etcd_open(struct reactor *r, const char *endpoints, struct metastore **out)
{
	(void)r;
	(void)endpoints;
	*out = NULL;
	return -TAPE_ECONFIG;
}
