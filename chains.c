/*-------------------------------------------------------------------------
 *
 * chains.c
 *		  Expand the key values of a scan into request chains, lazily
 *
 * A scan's key quals give each key a list of values ("cluster_name IN
 * (...)", "group_id = ANY ($1)"); its request chains are the cartesian
 * product of those lists.  The lists can be large (arrays of hundreds of
 * thousands of values), and so can their product, so:
 *	- each list is deduplicated in O(n log n) (a stable merge sort of the
 *	  value texts, then one pass), keeping the first occurrence of each
 *	  value in the order given, and several quals on one key intersect by
 *	  binary search in the sorted values, not pairwise;
 *	- every loop over the values checks for interrupts, so that a cancel or
 *	  statement_timeout takes effect while keys are expanded;
 *	- the number of chains is computed with overflow-checked arithmetic and
 *	  checked against max_request_chains before any request is made (one
 *	  error for every level, atlas_too_many_chains: the key values here,
 *	  the projects and clusters of an enumeration in enumerate.c);
 *	- chains are never materialised: an odometer over the per-key lists
 *	  produces them one at a time, as the fetcher asks for them
 *	  (AtlasChainSource), groups outermost and the last key varying fastest.
 *
 * What a key is (its column, how a value is checked and sent) is keys.c's
 * business; this file only combines the values.
 *
 * Memory: everything lives in the memory context current when
 * atlas_chain_set_create is called (the scan's key context, reset on each
 * rescan); nothing here is malloc'd, so an ERROR leaks nothing.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  chains.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "atlas_snapshot_fdw.h"
#include "common/int.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/* Elements merged between two looks for a pending interrupt */
#define MERGE_INTERRUPT_EVERY	4096

/* The distinct values one key may take */
typedef struct KeyValues
{
	bool		constrained;	/* some qual restricted this key */
	int			n;				/* number of distinct values */
	char	  **texts;			/* as sent, in the order first given */
	Datum	   *datums;			/* in the column's type, same order */
	char	  **sorted;			/* the texts in strcmp order */
} KeyValues;

struct AtlasChainSet
{
	KeyValues	keys[ATLAS_NUM_KEYS];
	int64		total;			/* chains in all, once counted */
	int64		produced;		/* chains handed out so far */
	int			pos[ATLAS_NUM_KEYS];	/* odometer: values of the next chain */
	char	  **pair_clusters;	/* enumerated: cluster of each group value,
								 * or NULL (see atlas_chain_set_use_pairs) */
	Datum	   *pair_cluster_datums;	/* their Datums, same order */
};

/*
 * atlas_chain_set_create
 *		An empty set (no key constrained: one chain), in the current memory
 *		context.
 */
AtlasChainSet *
atlas_chain_set_create(void)
{
	AtlasChainSet *set = palloc0(sizeof(AtlasChainSet));

	set->total = -1;
	return set;
}

/*
 * merge_sort_texts
 *		Sort idx[0..n) by texts[idx[i]] (strcmp), stably: equal texts keep
 *		their order.  O(n log n), bottom-up, checking for interrupts.
 */
static void
merge_sort_texts(char **texts, int *idx, int n)
{
	int		   *tmp = palloc(mul_size(Max(n, 1), sizeof(int)));
	int		   *src = idx;
	int		   *dst = tmp;
	int64		merged = 0;

	for (int64 width = 1; width < n; width *= 2)
	{
		for (int64 lo = 0; lo < n; lo += 2 * width)
		{
			int64		mid = Min(lo + width, (int64) n);
			int64		hi = Min(lo + 2 * width, (int64) n);
			int64		a = lo,
						b = mid,
						k = lo;

			while (k < hi)
			{
				if (a < mid &&
					(b >= hi || strcmp(texts[src[a]], texts[src[b]]) <= 0))
					dst[k++] = src[a++];
				else
					dst[k++] = src[b++];
				if (++merged % MERGE_INTERRUPT_EVERY == 0)
					CHECK_FOR_INTERRUPTS();
			}
		}
		/* the next pass reads what this one wrote */
		{
			int		   *swap = src;

			src = dst;
			dst = swap;
		}
	}
	if (src != idx)
		memcpy(idx, src, sizeof(int) * n);
	pfree(tmp);
}

/*
 * dedup_values
 *		Reduce texts/datums[0..*n) to their distinct texts, keeping the first
 *		occurrence of each, in the order given; return the distinct texts in
 *		sorted order (palloc'd).
 */
static char **
dedup_values(char **texts, Datum *datums, int *n)
{
	int			count = *n;
	int		   *idx = palloc(mul_size(Max(count, 1), sizeof(int)));
	bool	   *keep = palloc0(Max(count, 1));
	char	  **sorted = palloc(mul_size(Max(count, 1), sizeof(char *)));
	int			nsorted = 0;
	int			out = 0;

	for (int i = 0; i < count; i++)
		idx[i] = i;
	merge_sort_texts(texts, idx, count);

	/* the sort is stable: the first of each run came first in the list */
	for (int i = 0; i < count; i++)
	{
		if (i == 0 || strcmp(texts[idx[i]], texts[idx[i - 1]]) != 0)
		{
			keep[idx[i]] = true;
			sorted[nsorted++] = texts[idx[i]];
		}
		if ((i & (MERGE_INTERRUPT_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int i = 0; i < count; i++)
	{
		if (!keep[i])
			continue;
		texts[out] = texts[i];
		datums[out] = datums[i];
		out++;
	}
	Assert(out == nsorted);
	*n = out;
	pfree(idx);
	pfree(keep);
	return sorted;
}

/*
 * qual_values
 *		The distinct non-null values one key qual allows: those its column
 *		(of type coltype, coltypmod) can hold (atlas_key_datum; any other
 *		equals no row).
 */
static void
qual_values(AtlasKeyKind kind, bool is_array, Oid valtype, Oid coltype,
			int32 coltypmod, Datum value, bool isnull, KeyValues *kv)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Oid			typid = is_array ? get_element_type(valtype) : valtype;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			n = 0;

	memset(kv, 0, sizeof(*kv));
	kv->constrained = true;
	if (isnull)
		return;

	get_typlenbyvalalign(typid, &typlen, &typbyval, &typalign);
	if (is_array)
		deconstruct_array(DatumGetArrayTypeP(value), typid, typlen, typbyval,
						  typalign, &elems, &nulls, &nelems);
	else
	{
		elems = &value;
		nulls = &isnull;
		nelems = 1;
	}

	kv->texts = palloc(mul_size(Max(nelems, 1), sizeof(char *)));
	kv->datums = palloc(mul_size(Max(nelems, 1), sizeof(Datum)));
	for (int i = 0; i < nelems; i++)
	{
		Datum		key;

		CHECK_FOR_INTERRUPTS();
		if (nulls[i] ||
			!atlas_key_datum(kind, elems[i], typid, coltype, coltypmod, &key))
			continue;
		kv->texts[n] = atlas_key_text(kind, key);
		kv->datums[n] = key == elems[i] ? datumCopy(key, typbyval, typlen) : key;
		n++;
	}
	kv->n = n;
	kv->sorted = dedup_values(kv->texts, kv->datums, &kv->n);
}

/* bsearch comparator over an array of char * */
static int
cmp_text_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * atlas_chain_set_add
 *		Add the values of one key qual: they become the key's values, or,
 *		for a key an earlier qual constrained, intersect with them (in the
 *		earlier qual's order).  valtype is the type of value (an array type
 *		for "= ANY"), coltype and coltypmod the key column's (AtlasKeyQual):
 *		a value the column cannot hold is left out.
 */
void
atlas_chain_set_add(AtlasChainSet *set, AtlasKeyKind kind, bool is_array,
					Oid valtype, Oid coltype, int32 coltypmod, Datum value,
					bool isnull)
{
	KeyValues	kv;
	KeyValues  *cur = &set->keys[kind];
	int			out = 0;

	Assert(kind >= 0 && kind < ATLAS_NUM_KEYS);
	qual_values(kind, is_array, valtype, coltype, coltypmod, value, isnull, &kv);
	if (!cur->constrained)
	{
		*cur = kv;
		return;
	}

	for (int i = 0; i < cur->n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (kv.n == 0 ||
			bsearch(&cur->texts[i], kv.sorted, kv.n, sizeof(char *),
					cmp_text_ptr) == NULL)
			continue;
		cur->texts[out] = cur->texts[i];
		cur->datums[out] = cur->datums[i];
		out++;
	}
	cur->n = out;
	/* keep sorted in step with texts: atlas_chain_set_allows searches it */
	cur->sorted = palloc(mul_size(Max(out, 1), sizeof(char *)));
	memcpy(cur->sorted, cur->texts, sizeof(char *) * out);
	qsort(cur->sorted, out, sizeof(char *), cmp_text_ptr);
}

/*
 * atlas_chain_set_constrained
 *		Whether some qual restricted this key.
 */
bool
atlas_chain_set_constrained(AtlasChainSet *set, AtlasKeyKind kind)
{
	return set->keys[kind].constrained;
}

/*
 * atlas_chain_set_empty
 *		Whether some qual leaves a key no value at all (a NULL, an empty
 *		array, values no row can hold, quals that exclude each other): then
 *		there is no chain whatever the other keys, and nothing to
 *		enumerate.
 */
bool
atlas_chain_set_empty(AtlasChainSet *set)
{
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		if (set->keys[k].constrained && set->keys[k].n == 0)
			return true;
	}
	return false;
}

/*
 * atlas_chain_set_values
 *		The distinct values of a constrained key, in the order first given:
 *		*texts and *datums point into the set.  Returns their number.
 */
int
atlas_chain_set_values(AtlasChainSet *set, AtlasKeyKind kind,
					   char ***texts, Datum **datums)
{
	*texts = set->keys[kind].texts;
	*datums = set->keys[kind].datums;
	return set->keys[kind].n;
}

/*
 * atlas_chain_set_allows
 *		Whether a value passes the quals on a key (any value does if none
 *		restricts it).  O(log n).
 */
bool
atlas_chain_set_allows(AtlasChainSet *set, AtlasKeyKind kind,
					   const char *text)
{
	KeyValues  *kv = &set->keys[kind];

	if (!kv->constrained)
		return true;
	return kv->n > 0 &&
		bsearch(&text, kv->sorted, kv->n, sizeof(char *), cmp_text_ptr) != NULL;
}

/*
 * atlas_chain_set_use_pairs
 *		Replace the group and cluster keys by n enumerated (group, cluster)
 *		pairs (enumerate.c): the chains become the pairs, outermost, times
 *		the values of the other keys.  The arrays are kept, not copied; they
 *		must live in the set's memory context.  Call before counting.
 */
void
atlas_chain_set_use_pairs(AtlasChainSet *set, int n,
						  char **groups, Datum *group_datums,
						  char **clusters, Datum *cluster_datums)
{
	KeyValues  *g = &set->keys[ATLAS_KEY_GROUP];

	memset(g, 0, sizeof(*g));
	g->constrained = true;
	g->n = n;
	g->texts = groups;
	g->datums = group_datums;
	memset(&set->keys[ATLAS_KEY_CLUSTER], 0, sizeof(KeyValues));
	set->pair_clusters = clusters;
	set->pair_cluster_datums = cluster_datums;
}

/*
 * atlas_too_many_chains
 *		Raise the ERROR of a scan that would make "count" request chains at
 *		one level, more than max_chains (max_request_chains) allows: the
 *		combinations of its key values, or, when it enumerates, the
 *		projects whose cluster lists it would read or the clusters whose
 *		snapshots it would read (enumerate.c).  The one message of every
 *		level, raised before any request of that level.
 */
void
atlas_too_many_chains(Relation rel, AtlasChainLevel level, int64 count,
					  int max_chains)
{
	switch (level)
	{
		case ATLAS_CHAINS_PROJECTS:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("scan of foreign table \"%s\" would read the cluster lists of %lld projects, more than option \"%s\" allows (%d)",
							RelationGetRelationName(rel), (long long) count,
							OPTION_MAX_REQUEST_CHAINS, max_chains),
					 errdetail("Enumeration reads one cluster list per project, each a request chain."),
					 errhint("Give group_id conditions, or raise \"%s\" on the foreign server or table.",
							 OPTION_MAX_REQUEST_CHAINS)));
			break;
		case ATLAS_CHAINS_CLUSTERS:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("scan of foreign table \"%s\" would read the snapshots of %lld clusters, more than option \"%s\" allows (%d)",
							RelationGetRelationName(rel), (long long) count,
							OPTION_MAX_REQUEST_CHAINS, max_chains),
					 errdetail("Enumeration found that many clusters to read in the projects searched; each is a request chain."),
					 errhint("Give group_id or cluster_name conditions, or raise \"%s\" on the foreign server or table.",
							 OPTION_MAX_REQUEST_CHAINS)));
			break;
		case ATLAS_CHAINS_KEYS:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("scan of foreign table \"%s\" would make %lld request chains, more than option \"%s\" allows (%d)",
							RelationGetRelationName(rel), (long long) count,
							OPTION_MAX_REQUEST_CHAINS, max_chains),
					 errdetail("Each combination of key values is one request chain."),
					 errhint("Give fewer key values, or raise \"%s\" on the foreign server or table.",
							 OPTION_MAX_REQUEST_CHAINS)));
			break;
	}
	elog(ERROR, "atlas_snapshot_fdw: unknown request chain level %d", (int) level);
}

/*
 * atlas_chain_set_count
 *		Count the chains (the product of the number of values of each
 *		constrained key) and refuse more than max_chains, before any
 *		request is made.  rel names the foreign table in the message.
 */
int64
atlas_chain_set_count(AtlasChainSet *set, Relation rel, int max_chains)
{
	int64		total = 1;
	bool		overflow = false;

	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		if (set->keys[k].constrained &&
			pg_mul_s64_overflow(total, set->keys[k].n, &total))
			overflow = true;
	}
	/* a key with no value at all means no chain, whatever the others */
	if (atlas_chain_set_empty(set))
	{
		total = 0;
		overflow = false;
	}

	if (overflow)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("scan of foreign table \"%s\" would make more request chains than option \"%s\" allows (%d)",
						RelationGetRelationName(rel),
						OPTION_MAX_REQUEST_CHAINS, max_chains),
				 errdetail("Each combination of key values is one request chain; there are more than %lld.",
						   (long long) PG_INT64_MAX),
				 errhint("Give fewer key values.")));
	if (total > max_chains)
		atlas_too_many_chains(rel, ATLAS_CHAINS_KEYS, total, max_chains);

	set->total = total;
	set->produced = 0;
	memset(set->pos, 0, sizeof(set->pos));
	return total;
}

/*
 * atlas_chain_set_next
 *		AtlasChainSource over a counted set: fill keys with the next chain's
 *		values and return true, or return false after the last one.
 *
 * The texts and datums point into the set, which outlives the scan's use
 * of them (until the next rescan resets the key context).  Never throws.
 */
bool
atlas_chain_set_next(void *arg, AtlasRequestKeys *keys)
{
	AtlasChainSet *set = (AtlasChainSet *) arg;

	Assert(set->total >= 0);
	if (set->produced >= set->total)
		return false;

	memset(keys, 0, sizeof(*keys));
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		KeyValues  *kv = &set->keys[k];

		if (!kv->constrained)
			continue;
		keys->present[k] = true;
		keys->text[k] = kv->texts[set->pos[k]];
		keys->datum[k] = kv->datums[set->pos[k]];
	}
	if (set->pair_clusters)
	{
		/* enumerated: the group's position names the pair */
		keys->present[ATLAS_KEY_CLUSTER] = true;
		keys->text[ATLAS_KEY_CLUSTER] = set->pair_clusters[set->pos[ATLAS_KEY_GROUP]];
		keys->datum[ATLAS_KEY_CLUSTER] = set->pair_cluster_datums[set->pos[ATLAS_KEY_GROUP]];
	}
	set->produced++;

	/* advance the odometer: the last key varies fastest */
	for (int k = ATLAS_NUM_KEYS - 1; k >= 0; k--)
	{
		if (!set->keys[k].constrained)
			continue;
		if (++set->pos[k] < set->keys[k].n)
			break;
		set->pos[k] = 0;
	}
	return true;
}
