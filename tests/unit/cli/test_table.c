/*
 * tests/unit/cli/test_table.c: aligned columns (cli/table.c), as tape groups and tape topics
 * print them.
 *
 * Covers: widths from the widest cell, header included; one space between columns; the last
 * column unpadded (no trailing blanks); NULL cells as "-"; growth past the first allocation;
 * the column-count bounds.
 */
#include "cli/table.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *printed(const struct table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	table_print(t, f);
	fclose(f);
	return text;
}

Test(table, aligned_columns)
{
	struct table t;
	const char *head[] = { "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "CONSUMER-ID" };
	cr_assert_eq(table_init(&t, 5, head), 0);
	const char *r1[] = { "g", "orders.created", "0", "12", NULL };
	const char *r2[] = { "g", "t", "10", NULL, "rdkafka-1" };
	cr_assert_eq(table_add(&t, r1), 0);
	cr_assert_eq(table_add(&t, r2), 0);
	cr_assert_eq(table_width(&t, 1), strlen("orders.created"));
	cr_assert_eq(table_width(&t, 2), strlen("PARTITION"));
	char *s = printed(&t);
	cr_assert_str_eq(s, "GROUP TOPIC          PARTITION CURRENT-OFFSET CONSUMER-ID\n"
	                    "g     orders.created 0         12             -\n"
	                    "g     t              10        -              rdkafka-1\n");
	free(s);
	table_free(&t);
}

Test(table, many_rows)
{
	struct table t;
	const char *head[] = { "N" };
	cr_assert_eq(table_init(&t, 1, head), 0);
	char cell[16];
	for (int i = 0; i < 1000; i++) {
		snprintf(cell, sizeof(cell), "%d", i);
		const char *row[] = { cell };
		cr_assert_eq(table_add(&t, row), 0);
	}
	cr_assert_eq(t.rows, 1001u);
	cr_assert_eq(table_width(&t, 0), 3u);
	cr_assert_str_eq(t.cells[1000], "999");
	table_free(&t);
}

Test(table, column_bounds)
{
	struct table t;
	const char *head[TABLE_COLUMNS_MAX + 1] = { 0 };
	cr_assert_eq(table_init(&t, 0, head), -EINVAL);
	cr_assert_eq(table_init(&t, TABLE_COLUMNS_MAX + 1, head), -EINVAL);
}
