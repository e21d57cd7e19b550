/*
 * cli/table.h: aligned text columns for `tape topics` and `tape groups`, the way
 * kafka-consumer-groups prints them: each column as wide as its widest cell (header
 * included), one space between columns, the last column not padded, no trailing blanks.
 *
 * Pure: cells are copied in; nothing is printed until table_print.
 */
#ifndef TAPE_CLI_TABLE_H
#define TAPE_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_COLUMNS_MAX 16

struct table {
	size_t cols;
	size_t rows; /* the header row included */
	size_t cap;
	char **cells; /* owned: rows * cols strings, row major */
};

/* A table with cols columns (1..TABLE_COLUMNS_MAX) named by the header strings. 0 or -ENOMEM
 * / -EINVAL. */
int table_init(struct table *t, size_t cols, const char *const *header);
/* Adds a row of cols cells (a NULL cell prints as "-"). 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);
/* The width of column col: its widest cell. */
size_t table_width(const struct table *t, size_t col);
/* Writes the header and the rows, each line ending in '\n'. */
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
