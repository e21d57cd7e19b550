/*
 * cli/table.c: aligned text columns (rules in table.h).
 */
#include "cli/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int table_init(struct table *t, size_t cols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	if (cols == 0 || cols > TABLE_COLUMNS_MAX)
		return -EINVAL;
	t->cols = cols;
	return table_add(t, header);
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, sizeof(*c) * cap * t->cols);
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	char **row = &t->cells[t->rows * t->cols];
	for (size_t i = 0; i < t->cols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i-- > 0)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->rows++;
	return 0;
}

size_t table_width(const struct table *t, size_t col)
{
	size_t w = 0;
	for (size_t r = 0; r < t->rows; r++) {
		size_t n = strlen(t->cells[r * t->cols + col]);
		w = n > w ? n : w;
	}
	return w;
}

void table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_COLUMNS_MAX];
	for (size_t c = 0; c < t->cols; c++)
		width[c] = table_width(t, c);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *cell = t->cells[r * t->cols + c];
			if (c + 1 < t->cols)
				fprintf(out, "%-*s ", (int)width[c], cell);
			else
				fputs(cell, out);
		}
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
