/*
 * c_client.c: the benchmark's baseline, a plain libcurl + json-c client
 * that reads Atlas snapshot lists with no PostgreSQL involved.
 *
 * Usage: c_client MODE BASE_URL GROUP CLUSTER [GROUP CLUSTER ...]
 *   seq     each cluster's pages one after the other, parsed, until a short
 *           page (what a naive client does)
 *   fanout  first pages of every cluster at once; then, from totalCount,
 *           all further pages at once (up to 64 transfers in flight);
 *           parsed
 *   raw     like fanout, but pages are only transferred, not parsed: the
 *           transfer floor
 * Prints "rows sum seconds" (raw: "pages bytes seconds", timing only the
 * transfers).
 */
#include <curl/curl.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_PAGE 500
#define MAX_INFLIGHT 64

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

typedef struct Req
{
	int			cluster;
	int			page;
	CURL	   *curl;
	Buf			buf;
} Req;

static const char *base;
static char **groups;
static char **clusters;
static long long rows_total;
static long long sum_total;
static long long bytes_total;
static long long pages_total;
static int	parse = 1;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
write_cb(char *p, size_t s, size_t n, void *u)
{
	Buf		   *b = u;
	size_t		len = s * n;

	if (b->len + len + 1 > b->cap)
	{
		b->cap = (b->len + len + 1) * 2;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = 0;
	return len;
}

static CURL *
make_handle(Req *r)
{
	char		url[512];
	CURL	   *c = curl_easy_init();

	snprintf(url, sizeof(url),
			 "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%d&itemsPerPage=%d",
			 base, groups[r->cluster], clusters[r->cluster], r->page, PER_PAGE);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->buf);
	curl_easy_setopt(c, CURLOPT_PRIVATE, r);
	return c;
}

/* parse a page; returns its number of items, *total gets totalCount */
static int
consume(Req *r, long long *total)
{
	json_object *root;
	json_object *results;
	json_object *val;
	int			n;

	bytes_total += r->buf.len;
	pages_total++;
	if (!parse)
		return -1;
	root = json_tokener_parse(r->buf.data ? r->buf.data : "");
	if (root == NULL || !json_object_object_get_ex(root, "results", &results))
	{
		fprintf(stderr, "bad page\n");
		exit(1);
	}
	n = (int) json_object_array_length(results);
	for (int i = 0; i < n; i++)
	{
		json_object *it = json_object_array_get_idx(results, i);

		if (json_object_object_get_ex(it, "storageSizeBytes", &val))
			sum_total += json_object_get_int64(val);
		rows_total++;
	}
	if (total && json_object_object_get_ex(root, "totalCount", &val))
		*total = json_object_get_int64(val);
	json_object_put(root);
	return n;
}

static void
run_seq(int nclusters)
{
	for (int c = 0; c < nclusters; c++)
	{
		for (int p = 1;; p++)
		{
			Req			r = {c, p, NULL, {0}};
			int			n;

			r.curl = make_handle(&r);
			curl_easy_perform(r.curl);
			n = consume(&r, NULL);
			curl_easy_cleanup(r.curl);
			free(r.buf.data);
			if (n < PER_PAGE)
				break;
		}
	}
}

/* run a set of requests with at most MAX_INFLIGHT at once */
static void
run_multi(Req *reqs, int n, long long *totals)
{
	CURLM	   *m = curl_multi_init();
	int			next = 0;
	int			running = 0;

	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) MAX_INFLIGHT);
	while (next < n || running > 0)
	{
		CURLMsg    *msg;
		int			q;

		while (next < n && running < MAX_INFLIGHT)
		{
			reqs[next].curl = make_handle(&reqs[next]);
			curl_multi_add_handle(m, reqs[next].curl);
			next++;
			running++;
		}
		curl_multi_perform(m, &q);
		while ((msg = curl_multi_info_read(m, &q)))
		{
			Req		   *r;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
			consume(r, totals ? &totals[r->cluster] : NULL);
			curl_multi_remove_handle(m, r->curl);
			curl_easy_cleanup(r->curl);
			free(r->buf.data);
			running--;
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	curl_multi_cleanup(m);
}

/*
 * all_pages: read every cluster's first page (parsed, for totalCount) and
 * return the list of every page of every cluster, the first ones included
 * if with_first; *n gets its length.
 */
static Req *
all_pages(int nclusters, int with_first, int *n)
{
	Req		   *first = calloc(nclusters, sizeof(Req));
	long long  *totals = calloc(nclusters, sizeof(long long));
	Req		   *pages;
	int			count = 0;

	for (int c = 0; c < nclusters; c++)
	{
		first[c].cluster = c;
		first[c].page = 1;
	}
	run_multi(first, nclusters, totals);
	for (int c = 0; c < nclusters; c++)
		count += totals[c] / PER_PAGE + 1;
	pages = calloc(count, sizeof(Req));
	count = 0;
	for (int c = 0; c < nclusters; c++)
	{
		/* up to totalCount/PER_PAGE + 1: the last page confirms the end */
		for (int p = with_first ? 1 : 2; p <= totals[c] / PER_PAGE + 1; p++)
		{
			pages[count].cluster = c;
			pages[count].page = p;
			count++;
		}
	}
	free(first);
	free(totals);
	*n = count;
	return pages;
}

int
main(int argc, char **argv)
{
	int			nclusters;
	double		start;

	if (argc < 5 || (argc - 3) % 2 != 0)
	{
		fprintf(stderr, "usage: %s seq|fanout|raw BASE_URL GROUP CLUSTER ...\n", argv[0]);
		return 2;
	}
	base = argv[2];
	nclusters = (argc - 3) / 2;
	groups = calloc(nclusters, sizeof(char *));
	clusters = calloc(nclusters, sizeof(char *));
	for (int i = 0; i < nclusters; i++)
	{
		groups[i] = argv[3 + 2 * i];
		clusters[i] = argv[4 + 2 * i];
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	start = now_seconds();
	if (strcmp(argv[1], "seq") == 0)
		run_seq(nclusters);
	else if (strcmp(argv[1], "fanout") == 0)
	{
		int			n;
		Req		   *rest = all_pages(nclusters, 0, &n);

		run_multi(rest, n, NULL);
		free(rest);
	}
	else if (strcmp(argv[1], "raw") == 0)
	{
		int			n;
		Req		   *pages = all_pages(nclusters, 1, &n);

		/* time only the transfers: no parsing, counters reset */
		bytes_total = pages_total = 0;
		parse = 0;
		start = now_seconds();
		run_multi(pages, n, NULL);
		printf("%lld %lld %.4f\n", pages_total, bytes_total, now_seconds() - start);
		free(pages);
		return 0;
	}
	else
	{
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("%lld %lld %.4f\n", rows_total, sum_total, now_seconds() - start);
	return 0;
}
