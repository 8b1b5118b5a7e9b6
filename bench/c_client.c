/*
 * c_client.c: the benchmark's baseline, a plain libcurl + json-c client that
 * reads Atlas v2 snapshot lists with no PostgreSQL involved.
 *
 * usage: c_client [-m seq|multi] [-n INFLIGHT] [-r] [-u USER:PASS] [-a]
 *                 BASE_URL GROUP CLUSTER [GROUP CLUSTER ...]
 *
 *   -m seq     (default) one easy handle, reused for every request (HTTP/1.1
 *              keep-alive, Digest state kept); each cluster's pages one
 *              after the other until a page has fewer than 500 items; every
 *              page parsed with json-c as soon as it has arrived.
 *   -m multi   the multi interface, with a pool of INFLIGHT reused easy
 *              handles (-n, default 8): page 1 of every cluster at once,
 *              then, as soon as a cluster's first page has told totalCount,
 *              all its further pages at once (a full last page asks for the
 *              next one, as Atlas's totalCount is only an estimate).  Pages
 *              are parsed as they complete, on the same thread.
 *   -r         raw: transfer only.  Bodies are not parsed; totalCount is
 *              found with strstr() and rows are counted from it, so this is
 *              the transfer floor for the same requests (sum is reported
 *              as 0 and not checked).
 *   -u U:P     send HTTP Digest credentials, like the FDW with an API key
 *              (CURLAUTH_DIGEST: libcurl sends the first request without
 *              credentials and only answers a 401 challenge; a server that
 *              answers 200 straight away is fine).
 *   -a         print the libcurl/json-c versions and exit.
 *
 * Every request carries the FDW's Accept header and Accept-Encoding.
 * Prints one line: "rows sum pages requests bytes seconds cpu_seconds
 * maxrss_kb", where requests counts HTTP responses received (a Digest
 * challenge makes two), seconds is the in-process wall time from the first
 * request to the last parsed page and cpu_seconds the process's user +
 * system time.  Exits 1 on any transfer error or non-200 answer.
 */
#include <curl/curl.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PER_PAGE 500

#define MAX_INFLIGHT 256

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

typedef struct Slot
{
	CURL	   *curl;
	Buf			buf;
	int			cluster;
	int			page;
	int			busy;
	int			exchanges;		/* HTTP responses seen (401 + 200 = 2) */
} Slot;

typedef struct Job
{
	int			cluster;
	int			page;
} Job;

static const char *base_url;
static char **groups;
static char **names;
static int	nclusters;
static int	raw;
static const char *userpwd;
static struct curl_slist *headers;

static long long rows_total;
static long long sum_total;
static long long pages_total;
static long long requests_total;
static long long bytes_total;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "c_client: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* count the status lines: a Digest challenge makes two exchanges */
static size_t
header_cb(char *p, size_t s, size_t n, void *u)
{
	int		   *exchanges = u;

	if (s * n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		(*exchanges)++;
	return s * n;
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
		if (b->data == NULL)
			die("out of memory", NULL);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = 0;
	return len;
}

static CURL *
new_handle(Buf *buf, int *exchanges)
{
	CURL	   *c = curl_easy_init();

	if (c == NULL)
		die("curl_easy_init failed", NULL);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, buf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, exchanges);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "atlas-bench-c-client");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (userpwd)
	{
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long) CURLAUTH_DIGEST);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	return c;
}

static void
set_url(CURL *c, int cluster, int page)
{
	char		url[1024];

	snprintf(url, sizeof(url),
			 "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%d&itemsPerPage=%d",
			 base_url, groups[cluster], names[cluster], page, PER_PAGE);
	curl_easy_setopt(c, CURLOPT_URL, url);
}

/* after a transfer: check status, count the exchange(s) */
static void
check_transfer(CURL *c, CURLcode rc, Buf *buf, int *exchanges)
{
	long		status = 0;

	if (rc != CURLE_OK)
		die("transfer failed", curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
	{
		char		msg[64];

		snprintf(msg, sizeof(msg), "HTTP status %ld", status);
		die(msg, buf->data);
	}
	requests_total += *exchanges;
	*exchanges = 0;
	bytes_total += buf->len;
	pages_total++;
}

/*
 * Consume one page: returns the number of items it holds; *total gets
 * totalCount (or -1).  Parsed mode adds up storageSizeBytes.
 */
static int
consume(Buf *buf, long long *total)
{
	json_object *root;
	json_object *results;
	json_object *val;
	int			n;

	if (raw)
	{
		const char *p = buf->data ? strstr(buf->data, "\"totalCount\":") : NULL;
		long long	t = p ? atoll(p + strlen("\"totalCount\":")) : -1;

		*total = t;
		/* the item count of this page is not parsed in raw mode */
		return -1;
	}
	root = json_tokener_parse(buf->data ? buf->data : "");
	if (root == NULL || !json_object_object_get_ex(root, "results", &results) ||
		!json_object_is_type(results, json_type_array))
		die("bad page", NULL);
	n = (int) json_object_array_length(results);
	for (int i = 0; i < n; i++)
	{
		json_object *it = json_object_array_get_idx(results, i);

		if (json_object_object_get_ex(it, "storageSizeBytes", &val) &&
			!json_object_is_type(val, json_type_null))
			sum_total += json_object_get_int64(val);
		rows_total++;
	}
	*total = -1;
	if (json_object_object_get_ex(root, "totalCount", &val))
		*total = json_object_get_int64(val);
	json_object_put(root);
	return n;
}

/* pages a list of `total` items takes, the confirming short page included */
static int
pages_for(long long total)
{
	return (int) (total / PER_PAGE) + 1;
}

static void
run_seq(void)
{
	Buf			buf = {0};
	int			exchanges = 0;
	CURL	   *c = new_handle(&buf, &exchanges);

	for (int cl = 0; cl < nclusters; cl++)
	{
		int			last = 0;		/* raw: page count from totalCount */

		for (int p = 1;; p++)
		{
			long long	total;
			int			n;

			buf.len = 0;
			set_url(c, cl, p);
			check_transfer(c, curl_easy_perform(c), &buf, &exchanges);
			n = consume(&buf, &total);
			if (raw)
			{
				if (p == 1)
				{
					last = pages_for(total);
					rows_total += total;
				}
				if (p >= last)
					break;
			}
			else if (n < PER_PAGE)
				break;
		}
	}
	curl_easy_cleanup(c);
	free(buf.data);
}

static void
run_multi(int inflight)
{
	CURLM	   *m = curl_multi_init();
	Slot	   *slots = calloc(inflight, sizeof(Slot));
	int			cap = 1024;
	Job		   *queue = malloc(cap * sizeof(Job));
	int			qhead = 0;
	int			qtail = 0;
	int			running = 0;
	int		   *planned = calloc(nclusters, sizeof(int));	/* pages queued */

	for (int i = 0; i < inflight; i++)
		slots[i].curl = new_handle(&slots[i].buf, &slots[i].exchanges);
	for (int cl = 0; cl < nclusters; cl++)
	{
		queue[qtail].cluster = cl;
		queue[qtail].page = 1;
		qtail++;
		if (qtail == cap)
			queue = realloc(queue, (cap *= 2) * sizeof(Job));
		planned[cl] = 1;
	}

	while (qhead < qtail || running > 0)
	{
		CURLMsg    *msg;
		int			q;

		/* start queued jobs on free slots */
		for (int i = 0; i < inflight && qhead < qtail; i++)
		{
			if (slots[i].busy)
				continue;
			slots[i].busy = 1;
			slots[i].cluster = queue[qhead].cluster;
			slots[i].page = queue[qhead].page;
			slots[i].buf.len = 0;
			qhead++;
			set_url(slots[i].curl, slots[i].cluster, slots[i].page);
			curl_easy_setopt(slots[i].curl, CURLOPT_PRIVATE, &slots[i]);
			curl_multi_add_handle(m, slots[i].curl);
			running++;
		}
		curl_multi_perform(m, &q);
		while ((msg = curl_multi_info_read(m, &q)))
		{
			Slot	   *s;
			long long	total;
			int			n;
			int			want;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &s);
			curl_multi_remove_handle(m, s->curl);
			running--;
			check_transfer(s->curl, msg->data.result, &s->buf, &s->exchanges);
			n = consume(&s->buf, &total);
			s->busy = 0;

			/* plan further pages of this cluster */
			want = planned[s->cluster];
			if (s->page == 1)
			{
				want = pages_for(total > 0 ? total : 0);
				if (raw)
					rows_total += total;
			}
			if (!raw && n == PER_PAGE && s->page >= want)
				want = s->page + 1;		/* totalCount was low: go on */
			while (planned[s->cluster] < want)
			{
				planned[s->cluster]++;
				queue[qtail].cluster = s->cluster;
				queue[qtail].page = planned[s->cluster];
				qtail++;
				if (qtail == cap)
					queue = realloc(queue, (cap *= 2) * sizeof(Job));
			}
		}
		/* wait for activity, unless a freed slot can start a queued job */
		if (running > 0 && !(qhead < qtail && running < inflight))
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	for (int i = 0; i < inflight; i++)
	{
		curl_easy_cleanup(slots[i].curl);
		free(slots[i].buf.data);
	}
	curl_multi_cleanup(m);
	free(slots);
	free(queue);
	free(planned);
}

int
main(int argc, char **argv)
{
	const char *mode = "seq";
	int			inflight = 8;
	int			opt;
	double		start;
	double		secs;
	struct rusage ru;

	while ((opt = getopt(argc, argv, "m:n:ru:a")) != -1)
	{
		switch (opt)
		{
			case 'm':
				mode = optarg;
				break;
			case 'n':
				inflight = atoi(optarg);
				break;
			case 'r':
				raw = 1;
				break;
			case 'u':
				userpwd = optarg;
				break;
			case 'a':
				printf("libcurl %s, json-c %s\n", curl_version_info(CURLVERSION_NOW)->version,
					   json_c_version());
				return 0;
			default:
				return 2;
		}
	}
	if (argc - optind < 3 || (argc - optind - 1) % 2 != 0 ||
		inflight < 1 || inflight > MAX_INFLIGHT ||
		(strcmp(mode, "seq") != 0 && strcmp(mode, "multi") != 0))
	{
		fprintf(stderr, "usage: %s [-m seq|multi] [-n INFLIGHT] [-r|-t] [-u USER:PASS] "
				"BASE_URL GROUP CLUSTER [GROUP CLUSTER ...]\n", argv[0]);
		return 2;
	}
	base_url = argv[optind];
	nclusters = (argc - optind - 1) / 2;
	groups = calloc(nclusters, sizeof(char *));
	names = calloc(nclusters, sizeof(char *));
	for (int i = 0; i < nclusters; i++)
	{
		groups[i] = argv[optind + 1 + 2 * i];
		names[i] = argv[optind + 2 + 2 * i];
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	headers = curl_slist_append(NULL, "Accept: application/vnd.atlas.2023-01-01+json");

	start = now_seconds();
	if (strcmp(mode, "seq") == 0)
		run_seq();
	else
		run_multi(inflight);
	secs = now_seconds() - start;

	getrusage(RUSAGE_SELF, &ru);
	printf("%lld %lld %lld %lld %lld %.4f %.4f %ld\n", rows_total, raw ? 0 : sum_total,
		   pages_total, requests_total, bytes_total, secs,
		   ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		   ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		   ru.ru_maxrss);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	return 0;
}
