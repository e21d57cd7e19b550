/*
 * server/broker.c: the topic registry and its checkpoint (format and rules in broker.h).
 * Knows partitions and configs, not the network.
 */
#include "server/broker.h"

#include "base/assert.h"
#include "base/cursor.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/hash.h"
#include "base/limits.h"
#include "log/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define METADATA_CHECKPOINT "metadata.checkpoint"
#define METADATA_VERSION 1
/* Producer ids reserved per checkpoint write. */
#define PRODUCER_ID_BLOCK 100000

/* ---- the table ----------------------------------------------------------------------- */

static size_t slot(const struct broker *b, const char *name, size_t len)
{
	return (size_t)hash64(name, len) & (b->table_cap - 1);
}

struct topic *broker_topic(const struct broker *b, struct kstr name)
{
	if (name.len <= 0 || !b->table_cap)
		return NULL;
	for (struct topic *t = b->table[slot(b, name.p, (size_t)name.len)]; t; t = t->hnext)
		if (strlen(t->name) == (size_t)name.len &&
		    memcmp(t->name, name.p, (size_t)name.len) == 0)
			return t;
	return NULL;
}

struct pslot *broker_slot(const struct broker *b, struct kstr name, int32_t index)
{
	struct topic *t = broker_topic(b, name);
	if (!t || t->state != TOPIC_LIVE || index < 0 || index >= t->partitions_count ||
	    !t->parts[index])
		return NULL;
	return &t->slots[index];
}

struct partition *broker_partition(const struct broker *b, struct kstr name, int32_t index)
{
	struct pslot *slot = broker_slot(b, name, index);
	return slot ? slot->topic->parts[slot->index] : NULL;
}

static int table_insert(struct broker *b, struct topic *t)
{
	if ((b->topics_count + 1) * 2 > b->table_cap) {
		size_t cap = b->table_cap ? b->table_cap * 2 : 64;
		struct topic **table = calloc(cap, sizeof(*table));
		if (!table)
			return -ENOMEM;
		for (size_t i = 0; i < b->table_cap; i++)
			for (struct topic *x = b->table[i], *next; x; x = next) {
				next = x->hnext;
				size_t s = (size_t)hash64(x->name, strlen(x->name)) & (cap - 1);
				x->hnext = table[s];
				table[s] = x;
			}
		free(b->table);
		b->table = table;
		b->table_cap = cap;
	}
	size_t s = slot(b, t->name, strlen(t->name));
	t->hnext = b->table[s];
	b->table[s] = t;
	t->broker = b;
	b->topics_count++;
	return 0;
}

static void table_remove(struct broker *b, struct topic *t)
{
	for (struct topic **pp = &b->table[slot(b, t->name, strlen(t->name))]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			b->topics_count--;
			return;
		}
}

void broker_each_topic(const struct broker *b, void (*fn)(void *, struct topic *), void *arg)
{
	for (size_t i = 0; i < b->table_cap; i++)
		for (struct topic *t = b->table[i]; t; t = t->hnext)
			if (t->state == TOPIC_LIVE)
				fn(arg, t);
}

bool broker_topic_name_valid(struct kstr name)
{
	if (name.len <= 0 || name.len > TOPIC_NAME_BYTES_MAX)
		return false;
	if ((name.len == 1 && name.p[0] == '.') ||
	    (name.len == 2 && name.p[0] == '.' && name.p[1] == '.'))
		return false;
	for (int32_t i = 0; i < name.len; i++) {
		char ch = name.p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static struct topic *topic_new(const char *name, int32_t partitions, int16_t rf)
{
	struct topic *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->name = strdup(name);
	t->partitions_count = partitions;
	t->replication_factor = rf;
	t->parts = calloc((size_t)partitions, sizeof(*t->parts));
	t->slots = calloc((size_t)partitions, sizeof(*t->slots));
	for (int32_t i = 0; t->slots && i < partitions; i++)
		t->slots[i] = (struct pslot){ t, i, NULL, NULL };
	topic_config_init(&t->cfg);
	t->internal = name[0] == '_' && name[1] == '_';
	if (!t->name || !t->parts || !t->slots) {
		free(t->name);
		free(t->parts);
		free(t->slots);
		free(t);
		return NULL;
	}
	return t;
}

static void topic_free(struct topic *t)
{
	topic_config_free(&t->cfg);
	free(t->parts);
	free(t->slots);
	free(t->name);
	free(t);
}

/* ---- the checkpoint --------------------------------------------------------------------- */

static void put_str(struct buf *o, const char *s)
{
	size_t n = strlen(s);
	buf_i16(o, (int16_t)n);
	buf_put(o, s, n);
}

static int metadata_write(struct broker *b, int64_t producer_id_limit)
{
	struct buf o;
	buf_init(&o, CHECKPOINT_BYTES_MAX);
	buf_i16(&o, METADATA_VERSION);
	put_str(&o, b->cluster_id);
	buf_i64(&o, producer_id_limit);
	size_t count_pos = buf_skip(&o, 4);
	int32_t n = 0;
	for (size_t i = 0; i < b->table_cap; i++)
		for (struct topic *t = b->table[i]; t; t = t->hnext) {
			if (t->state == TOPIC_DELETING)
				continue;
			put_str(&o, t->name);
			buf_i32(&o, t->partitions_count);
			buf_i16(&o, t->replication_factor);
			buf_u8(&o, (uint8_t)t->cfg.count);
			for (unsigned k = 0; k < t->cfg.count; k++) {
				put_str(&o, config_topic_name(t->cfg.entries[k].id));
				put_str(&o, t->cfg.entries[k].value);
			}
			n++;
		}
	buf_patch_i32(&o, count_pos, n);
	int rc = buf_ok(&o) ? checkpoint_write(b->data_dir, METADATA_CHECKPOINT,
	                                       CHECKPOINT_METADATA, o.p, o.len)
	                    : -TAPE_ETOOLARGE;
	buf_free(&o);
	return rc;
}

static bool get_str(struct cursor *c, char *out, size_t cap)
{
	int16_t n = cursor_i16(c);
	const uint8_t *p = n >= 0 ? cursor_bytes(c, (size_t)n) : NULL;
	if (!p || (size_t)n >= cap)
		return false;
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	return true;
}

static int metadata_read(struct broker *b)
{
	uint8_t *buf;
	size_t len;
	int rc = checkpoint_read(b->data_dir, METADATA_CHECKPOINT, CHECKPOINT_METADATA, &buf, &len);
	if (rc < 0)
		return rc;
	struct cursor c;
	cursor_init(&c, buf, len);
	rc = -TAPE_ECORRUPT;
	if (cursor_i16(&c) != METADATA_VERSION ||
	    !get_str(&c, b->cluster_id, sizeof(b->cluster_id)))
		goto out;
	b->producer_id_next = cursor_i64(&c);
	uint32_t n = cursor_u32(&c);
	if (!cursor_ok(&c) || n > TOPICS_MAX)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		char name[TOPIC_NAME_BYTES_MAX + 1];
		if (!get_str(&c, name, sizeof(name)))
			goto out;
		int32_t partitions = cursor_i32(&c);
		int16_t rf = cursor_i16(&c);
		uint8_t configs = cursor_u8(&c);
		if (!cursor_ok(&c) || partitions < 1 || partitions > TOPIC_PARTITIONS_MAX ||
		    broker_topic(b, kstr_from(name)))
			goto out;
		struct topic *t = topic_new(name, partitions, rf);
		if (!t || table_insert(b, t) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		for (unsigned k = 0; k < configs; k++) {
			char key[128], value[1024], err[256];
			if (!get_str(&c, key, sizeof(key)) || !get_str(&c, value, sizeof(value)))
				goto out;
			if (topic_config_set(&t->cfg, key, value, err, sizeof(err)) < 0)
				diag_warn("topic %s: ignoring stored config: %s", name, err);
		}
	}
	rc = cursor_ok(&c) && cursor_left(&c) == 0 ? 0 : -TAPE_ECORRUPT;
out:
	free(buf);
	return rc;
}

/* ---- start-up and shutdown ------------------------------------------------------------- */

static void new_cluster_id(char *out, size_t cap)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[22];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(rand() ^ (int)i);
	size_t i;
	for (i = 0; i < sizeof(rnd) && i + 1 < cap; i++)
		out[i] = alphabet[rnd[i] & 63];
	out[i] = '\0';
}

static bool split_dir(const char *name, char *topic, size_t cap, int32_t *index)
{
	const char *dash = strrchr(name, '-');
	if (!dash || dash == name || !dash[1] || (size_t)(dash - name) >= cap)
		return false;
	char *end;
	long v = strtol(dash + 1, &end, 10);
	if (*end || v < 0 || v >= TOPIC_PARTITIONS_MAX)
		return false;
	memcpy(topic, name, (size_t)(dash - name));
	topic[dash - name] = '\0';
	*index = (int32_t)v;
	return broker_topic_name_valid(kstr_from(topic));
}

static void remove_tree(const char *path);

/* Removes leftovers of deletions, and adopts partition directories the checkpoint does not
 * list. Returns whether the checkpoint must be rewritten. */
static bool scan_data_dir(struct broker *b)
{
	DIR *d = opendir(b->data_dir);
	if (!d)
		return false;
	bool changed = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", b->data_dir, de->d_name);
		size_t n = strlen(de->d_name);
		if (n > 8 && strcmp(de->d_name + n - 8, ".deleted") == 0) {
			remove_tree(path);
			continue;
		}
		char topic[TOPIC_NAME_BYTES_MAX + 1];
		int32_t index;
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    !split_dir(de->d_name, topic, sizeof(topic), &index))
			continue;
		struct topic *t = broker_topic(b, kstr_from(topic));
		if (t && index < t->partitions_count)
			continue;
		if (t) {
			diag_warn("%s: partition %d is beyond the %d partitions on record; growing "
			          "topic %s to keep its data",
			          path, index, t->partitions_count, topic);
			struct partition **parts =
			    realloc(t->parts, (size_t)(index + 1) * sizeof(*parts));
			if (!parts)
				continue;
			memset(parts + t->partitions_count, 0,
			       (size_t)(index + 1 - t->partitions_count) * sizeof(*parts));
			t->parts = parts;
			struct pslot *slots =
			    realloc(t->slots, (size_t)(index + 1) * sizeof(*slots));
			if (!slots)
				continue;
			for (int32_t k = 0; k <= index; k++)
				slots[k] = (struct pslot){ t, k, NULL, NULL };
			t->slots = slots;
			t->partitions_count = index + 1;
		} else {
			diag_warn("%s: not in %s; adopting it as topic %s", path,
			          METADATA_CHECKPOINT, topic);
			t = topic_new(topic, index + 1, 1);
			if (!t || table_insert(b, t) < 0)
				continue;
		}
		changed = true;
	}
	closedir(d);
	return changed;
}

static int open_topic_partitions(struct broker *b, struct topic *t)
{
	struct partition_config pc;
	topic_config_resolve(b->cfg, &t->cfg, &pc);
	for (int32_t i = 0; i < t->partitions_count; i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s-%d", b->data_dir, t->name, i);
		int rc = partition_open(b->reactor, dir, &pc, &t->parts[i]);
		if (rc < 0)
			return rc;
		partition_set_progress(t->parts[i], b->progress, &t->slots[i]);
		/* A single broker leads everything in epoch 0; in a cluster the view says. */
		if (!b->replicated)
			partition_become_leader(t->parts[i], 0);
		if (b->progress)
			b->progress(t->parts[i], &t->slots[i]);
	}
	t->state = TOPIC_LIVE;
	return 0;
}

int broker_open(struct broker **out, struct reactor *r, const struct config *cfg,
                partition_progress_fn progress, void (*partition_gone)(struct pslot *slot))
{
	struct broker *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->reactor = r;
	b->cfg = cfg;
	b->replicated = strcmp(config_str(cfg, CFG_METADATA_STORE), "local") != 0;
	b->progress = progress;
	b->partition_gone = partition_gone;
	b->data_dir = strdup(config_str(cfg, CFG_LOG_DIRS));
	int rc = -ENOMEM;
	if (!b->data_dir)
		goto fail;
	if (mkdir(b->data_dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		diag_error("log.dirs %s: %s", b->data_dir, tape_strerror(rc));
		goto fail;
	}
	rc = metadata_read(b);
	if (rc == -ENOENT) {
		const char *id = config_str(cfg, CFG_CLUSTER_ID);
		if (id)
			snprintf(b->cluster_id, sizeof(b->cluster_id), "%s", id);
		else
			new_cluster_id(b->cluster_id, sizeof(b->cluster_id));
		diag_info("new data directory %s, cluster id %s", b->data_dir, b->cluster_id);
	} else if (rc < 0) {
		diag_error("%s/%s: %s; refusing to start rather than guess the topics", b->data_dir,
		           METADATA_CHECKPOINT, tape_strerror(rc));
		goto fail;
	}
	const char *want = config_str(cfg, CFG_CLUSTER_ID);
	if (want && strcmp(want, b->cluster_id) != 0) {
		diag_error("cluster.id %s does not match %s in %s", want, b->cluster_id,
		           b->data_dir);
		rc = -TAPE_ECONFIG;
		goto fail;
	}
	scan_data_dir(b);
	/* Reserve the first block of producer ids before handing any out. */
	b->producer_id_limit = b->producer_id_next + PRODUCER_ID_BLOCK;
	rc = metadata_write(b, b->producer_id_limit);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < b->table_cap; i++)
		for (struct topic *t = b->table[i]; t; t = t->hnext) {
			rc = open_topic_partitions(b, t);
			if (rc < 0)
				goto fail;
		}
	diag_info("%zu topics open in %s", b->topics_count, b->data_dir);
	*out = b;
	return 0;
fail:
	broker_close(b);
	return rc < 0 ? rc : -EIO;
}

void broker_close(struct broker *b)
{
	for (size_t i = 0; i < b->table_cap; i++)
		for (struct topic *t = b->table[i], *next; t; t = next) {
			next = t->hnext;
			for (int32_t k = 0; k < t->partitions_count; k++)
				if (t->parts[k])
					partition_close(t->parts[k]);
			topic_free(t);
		}
	while (b->jobs_inflight)
		reactor_run_once(b->reactor, -1);
	free(b->table);
	free(b->data_dir);
	free(b);
}

int broker_ensure_topic(struct broker *b, const char *name, int32_t partitions,
                        const struct topic_config *cfg, struct topic **out)
{
	struct topic *t = broker_topic(b, kstr_from(name));
	if (!t) {
		t = topic_new(name, partitions, 1);
		if (!t)
			return -ENOMEM;
		for (unsigned i = 0; cfg && i < cfg->count; i++) {
			t->cfg.entries[i].id = cfg->entries[i].id;
			t->cfg.entries[i].value = strdup(cfg->entries[i].value);
			t->cfg.count++;
		}
		int rc = table_insert(b, t);
		if (rc == 0)
			rc = metadata_write(b, b->producer_id_limit);
		if (rc == 0)
			rc = open_topic_partitions(b, t);
		if (rc < 0)
			return rc;
		diag_info("created internal topic %s with %d partitions", name, partitions);
	}
	*out = t;
	return 0;
}

/* ---- producer ids ------------------------------------------------------------------------ */

int64_t broker_next_producer_id(struct broker *b)
{
	if (b->producer_id_next >= b->producer_id_limit) {
		/* A new block: on disk before any id of it goes out. Rare (every
		 * PRODUCER_ID_BLOCK ids), so written synchronously. */
		int64_t limit = b->producer_id_limit + PRODUCER_ID_BLOCK;
		if (metadata_write(b, limit) < 0)
			return -1;
		b->producer_id_limit = limit;
	}
	return b->producer_id_next++;
}

/* ---- create and delete -------------------------------------------------------------------- */

struct open_job {
	struct io_job job;
	struct broker *b;
	struct topic *t;
	int32_t index;
	struct partition_config pc;
	struct partition *part;
	int rc;
	void (*done)(void *, int);
	void *arg;
};

static void open_run(struct io_job *job)
{
	struct open_job *j = container_of(job, struct open_job, job);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s-%d", j->b->data_dir, j->t->name, j->index);
	j->rc = partition_open(j->b->reactor, dir, &j->pc, &j->part);
}

static void open_done(struct io_job *job)
{
	struct open_job *j = container_of(job, struct open_job, job);
	struct broker *b = j->b;
	struct topic *t = j->t;
	b->jobs_inflight--;
	t->opening--;
	if (j->rc == 0) {
		t->parts[j->index] = j->part;
		partition_set_progress(j->part, b->progress, &t->slots[j->index]);
		if (!b->replicated)
			partition_become_leader(j->part, 0);
		if (b->progress)
			b->progress(j->part, &t->slots[j->index]);
	} else {
		diag_error("topic %s partition %d: %s", t->name, j->index, tape_strerror(j->rc));
	}
	bool last = t->opening == 0;
	if (last && t->state == TOPIC_CREATING) {
		bool ok = true;
		for (int32_t i = 0; i < t->partitions_count; i++)
			ok &= t->parts[i] != NULL;
		t->state = ok ? TOPIC_LIVE : TOPIC_DELETING;
		if (!ok) {
			table_remove(b, t);
			metadata_write(b, b->producer_id_limit);
		}
	}
	if (j->done)
		j->done(j->arg, j->rc);
	free(j);
}

int broker_create_topic(struct broker *b, struct kstr name, int32_t partitions,
                        int16_t replication_factor, const struct topic_config *cfg,
                        void (*done)(void *, int), void *arg, const char **errmsg)
{
	*errmsg = NULL;
	if (!broker_topic_name_valid(name)) {
		*errmsg = "topic names are 1 to 249 of [a-zA-Z0-9._-], not . or ..";
		return -EINVAL;
	}
	if (broker_topic(b, name))
		return -EEXIST;
	if (b->topics_count >= TOPICS_MAX) {
		*errmsg = "too many topics on this broker";
		return -ENOSPC;
	}
	if (partitions == -1)
		partitions = (int32_t)config_int(b->cfg, CFG_NUM_PARTITIONS);
	if (replication_factor == -1)
		replication_factor = (int16_t)config_int(b->cfg, CFG_DEFAULT_REPLICATION_FACTOR);
	if (partitions < 1 || partitions > TOPIC_PARTITIONS_MAX) {
		*errmsg = "the number of partitions must be 1 to 10000";
		return -ERANGE;
	}
	if (replication_factor != 1 && !b->replicated) {
		*errmsg = "this broker stands alone: the replication factor must be 1";
		return -EDOM;
	}
	char cname[TOPIC_NAME_BYTES_MAX + 1];
	memcpy(cname, name.p, (size_t)name.len);
	cname[name.len] = '\0';
	struct topic *t = topic_new(cname, partitions, replication_factor);
	if (!t)
		return -ENOMEM;
	if (cfg)
		for (unsigned i = 0; i < cfg->count; i++) {
			t->cfg.entries[i].id = cfg->entries[i].id;
			t->cfg.entries[i].value = strdup(cfg->entries[i].value);
			t->cfg.count++;
		}
	t->state = TOPIC_CREATING;
	int rc = table_insert(b, t);
	if (rc == 0)
		rc = metadata_write(b, b->producer_id_limit);
	if (rc < 0) {
		table_remove(b, t);
		topic_free(t);
		return rc;
	}
	struct partition_config pc;
	topic_config_resolve(b->cfg, &t->cfg, &pc);
	for (int32_t i = 0; i < partitions; i++) {
		struct open_job *j = calloc(1, sizeof(*j));
		ASSERT(j);
		j->b = b;
		j->t = t;
		j->index = i;
		j->pc = pc;
		/* The caller hears once, from the last partition to open. */
		j->done = i == partitions - 1 ? done : NULL;
		j->arg = arg;
		j->job.run = open_run;
		j->job.done = open_done;
		t->opening++;
		b->jobs_inflight++;
		reactor_offload(b->reactor, &j->job);
	}
	diag_info("creating topic %s with %d partition(s)", cname, partitions);
	return 0;
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char child[PATH_MAX];
			snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
			struct stat st;
			if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(child);
			else
				unlink(child);
		}
		closedir(d);
	}
	rmdir(path);
}

struct delete_job {
	struct io_job job;
	struct broker *b;
	struct topic *t;
	unsigned closing;
};

static void delete_run(struct io_job *job)
{
	struct delete_job *j = container_of(job, struct delete_job, job);
	for (int32_t i = 0; i < j->t->partitions_count; i++) {
		char dir[PATH_MAX], gone[PATH_MAX + 16];
		snprintf(dir, sizeof(dir), "%s/%s-%d", j->b->data_dir, j->t->name, i);
		snprintf(gone, sizeof(gone), "%s.deleted", dir);
		if (rename(dir, gone) == 0)
			remove_tree(gone);
	}
	checkpoint_sync_dir(j->b->data_dir);
}

static void delete_done(struct io_job *job)
{
	struct delete_job *j = container_of(job, struct delete_job, job);
	j->b->jobs_inflight--;
	diag_info("topic %s deleted", j->t->name);
	topic_free(j->t);
	free(j);
}

static void partition_closed(void *arg)
{
	struct delete_job *j = arg;
	if (--j->closing)
		return;
	j->job.run = delete_run;
	j->job.done = delete_done;
	reactor_offload(j->b->reactor, &j->job);
}

int broker_alter_topic_config(struct broker *b, struct topic *t, const struct topic_config *cfg)
{
	struct topic_config next, old = t->cfg;
	topic_config_init(&next);
	for (unsigned i = 0; i < cfg->count; i++) {
		next.entries[i].id = cfg->entries[i].id;
		next.entries[i].value = strdup(cfg->entries[i].value);
		next.count++;
		if (!next.entries[i].value) {
			topic_config_free(&next);
			return -ENOMEM;
		}
	}
	t->cfg = next;
	int rc = metadata_write(b, b->producer_id_limit);
	if (rc < 0) {
		/* Not on disk: the topic keeps what a restart would find. */
		t->cfg = old;
		topic_config_free(&next);
		return rc;
	}
	topic_config_free(&old);
	struct partition_config pc;
	topic_config_resolve(b->cfg, &t->cfg, &pc);
	for (int32_t i = 0; i < t->partitions_count; i++)
		if (t->parts[i] && partition_set_config(t->parts[i], &pc) < 0)
			diag_warn("topic %s: partition %d keeps its old configuration", t->name, i);
	diag_info("topic %s: configuration altered (%u override(s))", t->name, t->cfg.count);
	return 0;
}

int broker_delete_topic(struct broker *b, struct kstr name)
{
	struct topic *t = broker_topic(b, name);
	if (!t || t->state != TOPIC_LIVE)
		return -ENOENT;
	t->state = TOPIC_DELETING;
	table_remove(b, t);
	int rc = metadata_write(b, b->producer_id_limit);
	if (rc < 0)
		diag_error("topic %s: writing %s failed: %s", t->name, METADATA_CHECKPOINT,
		           tape_strerror(rc));
	struct delete_job *j = calloc(1, sizeof(*j));
	ASSERT(j);
	j->b = b;
	j->t = t;
	j->closing = 1; /* held until every close is started */
	b->jobs_inflight++;
	for (int32_t i = 0; i < t->partitions_count; i++)
		if (t->parts[i]) {
			if (b->partition_gone)
				b->partition_gone(&t->slots[i]);
			j->closing++;
			partition_close_async(t->parts[i], partition_closed, j);
			t->parts[i] = NULL;
		}
	partition_closed(j);
	return 0;
}
