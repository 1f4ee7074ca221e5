"""The inner loops of matching (and of looking for blocks pasted twice), compiled with numba:
one pass each instead of dozens of small numpy calls.

A 600-word document is too small for numpy to pay off: every array operation costs a few
microseconds of dispatch, and tokenising, fingerprinting, looking up and verifying one
repost took about fifty of them. These kernels do the same arithmetic in single loops.
They compute exactly what the documented rules say (tests compare them with datasketch's
`MinHash`, with `hash_word` and with a pair-by-pair alignment), so an index built before
them and one built after hold the same keys.

Compiled code is cached on disk (numba's `cache=True`): only the first run on a machine
pays for compiling, and forked workers inherit the compiled functions.
"""
from __future__ import annotations

import sys
import threading

import numpy as np
from numba import njit

_P = np.uint64(0x100000001B3)  # the word hash's polynomial base (see tokens.py)
_LENGTH_SALT = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_BAND_PRIME = np.uint64(0x100000001B3)
_SHINGLE_MIX = np.uint64(0x9E3779B97F4A7C15)
_NO_VALUE = np.uint32(0xFFFFFFFF)


@njit(cache=True, nogil=True)
def _finish_word(raw, length):
    h = raw ^ (np.uint64(length) * _LENGTH_SALT)
    h = (h ^ (h >> np.uint64(30))) * _MIX1
    h = (h ^ (h >> np.uint64(27))) * _MIX2
    return h ^ (h >> np.uint64(31))


@njit(cache=True, nogil=True)
def word_spans(points, word_table):
    """Words as maximal runs of characters `word_table[point]` marks: (starts, ends, hashes,
    has_non_ascii).

    A word's hash is the polynomial sum of (code point + 1) * P^k over its characters, ASCII
    letters lower-cased, then finished. Words with a non-ASCII character are flagged: their
    normalisation (NFKC, case-folding) is done in Python, which rehashes them.
    """
    n = len(points)
    capacity = n // 2 + 1
    starts = np.empty(capacity, np.int64)
    ends = np.empty(capacity, np.int64)
    hashes = np.empty(capacity, np.uint64)
    non_ascii = np.zeros(capacity, np.bool_)
    count = 0
    inside = False
    raw = np.uint64(0)
    power = np.uint64(1)
    for i in range(n):
        if word_table[points[i]]:
            if not inside:
                inside = True
                starts[count] = i
                raw = np.uint64(0)
                power = np.uint64(1)
            code = np.uint64(points[i])
            if code >= np.uint64(128):
                non_ascii[count] = True
            elif np.uint64(65) <= code <= np.uint64(90):
                code += np.uint64(32)
            raw += (code + np.uint64(1)) * power
            power *= _P
        elif inside:
            inside = False
            ends[count] = i
            hashes[count] = _finish_word(raw, i - starts[count])
            count += 1
    if inside:
        ends[count] = n
        hashes[count] = _finish_word(raw, n - starts[count])
        count += 1
    # Copies the size of the words found, not views of arrays sized for the most a text could
    # hold (three times more): tokens are kept (a scan's chunk of bodies, the sources verified),
    # and the large arrays, freed at once, are reused while still in the processor's cache.
    return starts[:count].copy(), ends[:count].copy(), hashes[:count].copy(), non_ascii[:count].copy()


_LOW32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, nogil=True)
def shingle_hashes(word_hashes, size):
    """64-bit hashes of every run of `size` consecutive words (one shingle if fewer words):
    the polynomial h = h * MIX + word over the run."""
    if len(word_hashes) == 0:
        return np.empty(0, np.uint64)
    if len(word_hashes) < size:
        size = len(word_hashes)
    count = len(word_hashes) - size + 1
    shingles = np.empty(count, np.uint64)
    for i in range(count):
        combined = np.uint64(0)
        for offset in range(size):
            combined = combined * _SHINGLE_MIX + word_hashes[i + offset]
        shingles[i] = combined
    return shingles


@njit(cache=True, nogil=True)
def _fmix32(value):
    """MurmurHash3's 32-bit finaliser (numba widens products to 64 bits: masked back)."""
    value ^= value >> np.uint64(16)
    value = (value * np.uint64(0x85EBCA6B)) & _LOW32
    value ^= value >> np.uint64(13)
    value = (value * np.uint64(0xC2B2AE35)) & _LOW32
    return value ^ (value >> np.uint64(16))


@njit(cache=True, nogil=True)
def window_signatures(shingles, a, b, starts, window, stride):
    """MinHash signatures (datasketch's affine32 scheme) of the windows of `window` shingles
    beginning at `starts` (`fingerprint.window_starts`, every `stride`): shape
    (windows, len(a)), uint32."""
    n = len(shingles)
    perms = len(a)
    if len(starts) == 0:
        return np.empty((0, perms), np.uint32)
    values = np.empty((n, perms), np.uint32)
    for i in range(n):
        h = shingles[i]
        folded = _fmix32((h ^ (h >> np.uint64(32))) & _LOW32)
        for p in range(perms):
            values[i, p] = np.uint32((folded * np.uint64(a[p]) + np.uint64(b[p])) & _LOW32)
    signatures = np.empty((len(starts), perms), np.uint32)
    # Windows overlap when stride < window: the minima of stride-sized blocks are taken once,
    # and a window aligned on blocks is the minimum of its blocks.
    blocks = np.empty(((n + stride - 1) // stride, perms), np.uint32)
    for k in range(len(blocks)):
        _minimum_of_rows(values, k * stride, min((k + 1) * stride, n), blocks[k])
    per_window = window // stride if window % stride == 0 else 0
    for w in range(len(starts)):
        start = starts[w]
        end = min(start + window, n)
        if per_window and start % stride == 0 and end - start == window:
            first = start // stride
            _minimum_of_rows(blocks, first, first + per_window, signatures[w])
        else:  # a short text, the tail window, or windows not made of whole blocks
            _minimum_of_rows(values, start, end, signatures[w])
    return signatures


@njit(cache=True, nogil=True)
def _minimum_of_rows(values, start, end, out):
    """out[p] = min(values[start:end, p]) for every column p (written with `min`, not a
    comparison and a store, so that the compiler uses vector instructions: 3x faster)."""
    for p in range(len(out)):
        out[p] = _NO_VALUE
    for i in range(start, end):
        row = values[i]
        for p in range(len(out)):
            out[p] = min(out[p], row[p])


@njit(cache=True, nogil=True)
def band_keys(signatures, bands, rows):
    """One 64-bit key per window and band: shape (windows, bands)."""
    keys = np.empty((len(signatures), bands), np.uint64)
    for w in range(len(signatures)):
        for band in range(bands):
            key = np.uint64(band + 1) * _BAND_PRIME  # bands differ even on equal rows
            for row in range(rows):
                key = (key ^ np.uint64(signatures[w, band * rows + row])) * _BAND_PRIME
            keys[w, band] = key ^ (key >> np.uint64(29))
    return keys


@njit(cache=True, nogil=True)
def group_by_prefix(keys, owners, directory, shift):
    """Reorder keys, and their owners alike, in place so that keys sharing their prefix (the
    bits left of `shift`) are together, in their given order; fill in `directory` (all zeros,
    an entry per prefix and one more) with where each prefix starts, and last the number of
    keys.

    A radix sort in two stable passes, on the prefix's lower half, then its upper half:
    one counting pass on the whole prefix sent every key to a random place among millions
    (2 s for the 24 million keys of 100,000 sources), while a pass over a few thousand
    buckets writes at that many places at once, which the caches follow (1.2 s for both).
    """
    bits = 64 - shift
    low = bits // 2
    spare_keys = np.empty_like(keys)
    spare_owners = np.empty_like(owners)
    _scatter_by_digit(keys, owners, spare_keys, spare_owners, shift, low)
    _scatter_by_digit(spare_keys, spare_owners, keys, owners, shift + low, bits - low)
    prefix = 0
    for i in range(len(keys)):
        while prefix <= np.int64(keys[i] >> np.uint64(shift)):
            directory[prefix] = i
            prefix += 1
    while prefix < len(directory):
        directory[prefix] = len(keys)
        prefix += 1


@njit(cache=True, nogil=True)
def _scatter_by_digit(keys, owners, to_keys, to_owners, shift, bits):
    """Keys (and owners) into to_keys (and to_owners) ordered by their `bits` bits above
    `shift`, keeping the given order among equal digits (a counting sort)."""
    mask = np.uint64((1 << bits) - 1)
    starts = np.zeros((1 << bits) + 1, np.int64)
    for i in range(len(keys)):
        starts[np.int64((keys[i] >> np.uint64(shift)) & mask) + 1] += 1
    for digit in range(1, len(starts)):
        starts[digit] += starts[digit - 1]
    for i in range(len(keys)):
        digit = np.int64((keys[i] >> np.uint64(shift)) & mask)
        slot = starts[digit]
        to_keys[slot] = keys[i]
        to_owners[slot] = owners[i]
        starts[digit] = slot + 1


@njit(cache=True, nogil=True)
def shared_key_owners(keys, owners, directory, shift, query_keys, max_bucket):
    """The owner of every index key equal to a query key, leaving out buckets of more than
    `max_bucket` entries (a source appears once per key it shares).

    `directory[p]` is where the keys whose top bits are p start (the rest of the 64 bits
    shifted out by `shift`); keys within one prefix need not be sorted. The index is far
    larger than the processor's caches and each query key reads from it twice: the loops go
    over all keys in passes (directory, then keys, then owners) whose reads do not wait on
    each other, so that the processor overlaps their cache misses (a third faster than one
    key at a time).
    """
    n = len(query_keys)
    lows = np.empty(n, np.int64)
    highs = np.empty(n, np.int64)
    for q in range(n):
        top = np.int64(query_keys[q] >> np.uint64(shift))
        lows[q] = directory[top]
        highs[q] = directory[top + 1]
    counts = np.zeros(n, np.int64)
    total = 0
    for q in range(n):
        query = query_keys[q]
        equal = 0
        for position in range(lows[q], highs[q]):
            equal += keys[position] == query
        if equal <= max_bucket:
            counts[q] = equal
            total += equal
    found = np.empty(total, np.int32)
    total = 0
    for q in range(n):
        if counts[q] == 0:
            continue
        query = query_keys[q]
        for position in range(lows[q], highs[q]):
            if keys[position] == query:
                found[total] = owners[position]
                total += 1
    return found


@njit(cache=True, nogil=True)
def _unmasked_equal(keys, owners, directory, shift, masked, query):
    """How many of the index keys equal `query` belong to a source `masked` does not mark."""
    top = np.int64(query >> np.uint64(shift))
    equal = 0
    for position in range(directory[top], directory[top + 1]):
        if keys[position] == query:
            owner = owners[position]
            if owner >= len(masked) or not masked[owner]:
                equal += 1
    return equal


@njit(cache=True, nogil=True)
def layered_key_matches(keys, owners, directory, shift, masked, delta_keys, delta_owners, delta_directory, delta_shift,
                        query_keys, max_bucket):
    """For one shard of a catalogue: how many index keys equal each query key, and the owners
    of those keys, query key by query key (`shared_key_owners` before it leaves out buckets
    of more than `max_bucket`). The index is in two layers: the main keys but those of sources
    `masked` marks (removed or replaced since the main keys were written), and the delta's
    keys (of sources added or replaced since); an index in one layer passes an empty mask and
    delta. Buckets are counted across both, as one index of the same sources counts them, so
    that candidates rank alike.

    A bucket full in the whole catalogue may be small in each shard: whoever merges the shards'
    answers adds the counts up and leaves out what the whole catalogue would. A key counted
    more than `max_bucket` here is over in every merge: its count says `max_bucket` + 1 and its
    owners stay here."""
    n = len(query_keys)
    counts = np.zeros(n, np.int32)
    total = 0
    for q in range(n):
        query = query_keys[q]
        equal = _unmasked_equal(keys, owners, directory, shift, masked, query)
        top = np.int64(query >> np.uint64(delta_shift))
        for position in range(delta_directory[top], delta_directory[top + 1]):
            equal += delta_keys[position] == query
        if equal > max_bucket:
            counts[q] = max_bucket + 1
        else:
            counts[q] = equal
            total += equal
    found = np.empty(total, np.int32)
    total = 0
    for q in range(n):
        if counts[q] == 0 or counts[q] > max_bucket:
            continue
        query = query_keys[q]
        top = np.int64(query >> np.uint64(shift))
        for position in range(directory[top], directory[top + 1]):
            if keys[position] == query:
                owner = owners[position]
                if owner >= len(masked) or not masked[owner]:
                    found[total] = owner
                    total += 1
        top = np.int64(query >> np.uint64(delta_shift))
        for position in range(delta_directory[top], delta_directory[top + 1]):
            if delta_keys[position] == query:
                found[total] = delta_owners[position]
                total += 1
    return counts, found


@njit(cache=True, nogil=True)
def layered_bucket_sizes(keys, owners, directory, shift, masked, delta_keys, delta_directory, delta_shift, query_keys):
    """`bucket_sizes` of an index in two layers (see `layered_key_matches`)."""
    sizes = np.zeros(len(query_keys), np.int64)
    for q in range(len(query_keys)):
        query = query_keys[q]
        sizes[q] = _unmasked_equal(keys, owners, directory, shift, masked, query)
        top = np.int64(query >> np.uint64(delta_shift))
        for position in range(delta_directory[top], delta_directory[top + 1]):
            sizes[q] += delta_keys[position] == query
    return sizes


@njit(cache=True, nogil=True)
def _table_size(count):
    """Slots for an open-addressing table of `count` values: a power of two, at most half full."""
    size = 16
    while size < 2 * count:
        size *= 2
    return size


@njit(cache=True, nogil=True)
def numbered_values(values):
    """Numbers `values` 0, 1, 2... in order of first appearance, equal values alike: (the
    number of each, how many distinct). An open-addressing table: linear, where sorting cost
    more than everything done with the numbers."""
    size = _table_size(len(values))
    slots = np.empty(size, np.uint64)
    numbers = np.full(size, -1, np.int64)
    found = np.empty(len(values), np.int64)
    known = 0
    for w in range(len(values)):
        slot = np.int64(values[w] & np.uint64(size - 1))
        while numbers[slot] != -1 and slots[slot] != values[w]:
            slot = (slot + 1) & (size - 1)
        if numbers[slot] == -1:
            slots[slot] = values[w]
            numbers[slot] = known
            known += 1
        found[w] = numbers[slot]
    return found, known


@njit(cache=True, nogil=True)
def distinct_values(values):
    """`values` without repeats, in order of first appearance."""
    numbers, known = numbered_values(values)
    kept = np.empty(known, np.uint64)
    for w in range(len(values)):
        kept[numbers[w]] = values[w]
    return kept


@njit(cache=True, nogil=True)
def ranked_owners(found, limit):
    """(numbers, counts) of the distinct values of `found`, most frequent first, then by
    number, at most `limit` of them."""
    size = _table_size(len(found))
    slots = np.full(size, -1, np.int64)
    counts = np.zeros(size, np.int64)
    distinct = 0
    for value in found:
        slot = np.int64(value) & (size - 1)
        while slots[slot] != -1 and slots[slot] != value:
            slot = (slot + 1) & (size - 1)
        if slots[slot] == -1:
            slots[slot] = value
            distinct += 1
        counts[slot] += 1
    # One sortable key each: the count above, the number's complement below (numbers are int32).
    order = np.empty(distinct, np.int64)
    k = 0
    for slot in range(size):
        if slots[slot] != -1:
            order[k] = (counts[slot] << 32) | (0xFFFFFFFF - slots[slot])
            k += 1
    _sort_descending(order)
    kept = min(limit, distinct)
    numbers = np.empty(kept, np.int64)
    hits = np.empty(kept, np.int64)
    for k in range(kept):
        hits[k] = order[k] >> 32
        numbers[k] = 0xFFFFFFFF - (order[k] & 0xFFFFFFFF)
    return numbers, hits


@njit(cache=True, nogil=True)
def shingle_candidates(shingles, a, b, starts, window, stride, bands, rows, keys, owners, directory, shift, max_bucket, limit):
    """A repost's candidates from its shingles in one call: the distinct band keys of its
    windows (`window_signatures`, `band_keys`, `distinct_values`), their owners in the index
    (`shared_key_owners`), ranked (`ranked_owners`). Five calls from Python cost a repost 9 us
    more, in passing arrays back and forth."""
    query = distinct_values(band_keys(window_signatures(shingles, a, b, starts, window, stride), bands, rows).ravel())
    numbers, hits = ranked_owners(shared_key_owners(keys, owners, directory, shift, query, max_bucket), limit)
    return numbers, hits, query


@njit(cache=True, nogil=True)
def bucket_sizes(keys, directory, shift, query_keys):
    """How many index keys equal each query key (a source holds a key once)."""
    sizes = np.zeros(len(query_keys), np.int64)
    for q in range(len(query_keys)):
        query = query_keys[q]
        top = np.int64(query >> np.uint64(shift))
        for position in range(directory[top], directory[top + 1]):
            sizes[q] += keys[position] == query
    return sizes


@njit(cache=True, nogil=True)
def overfull_keys(keys, directory, max_bucket):
    """The distinct keys held more than `max_bucket` times, in no particular order. Equal keys
    share their prefix, whose one or two keys (a few dozen for a stock passage's) are compared
    with each other."""
    found = np.empty(0, np.uint64)
    kept = []
    for prefix in range(len(directory) - 1):
        low, high = directory[prefix], directory[prefix + 1]
        if high - low <= max_bucket:
            continue
        for i in range(low, high):
            first, equal = True, 0
            for j in range(low, high):
                if keys[j] == keys[i]:
                    if j < i:
                        first = False
                        break
                    equal += 1
            if first and equal > max_bucket:
                kept.append(keys[i])
    if len(kept):
        found = np.empty(len(kept), np.uint64)
        for k in range(len(kept)):
            found[k] = kept[k]
    return found


@njit(cache=True, nogil=True)
def rows_holding(values, ends, wanted):
    """Which rows hold any of `wanted`: row r is values[ends[r - 1]:ends[r]] (from 0 for the
    first). A hash table of `wanted`, so that each value costs one probe or two."""
    size = _table_size(len(wanted))
    slots = np.zeros(size, np.uint32)
    used = np.zeros(size, np.bool_)
    for value in wanted:
        slot = np.int64(value) & (size - 1)
        while used[slot] and slots[slot] != value:
            slot = (slot + 1) & (size - 1)
        used[slot] = True
        slots[slot] = value
    held = np.zeros(len(ends), np.bool_)
    start = 0
    for row in range(len(ends)):
        for i in range(start, ends[row]):
            slot = np.int64(values[i]) & (size - 1)
            while used[slot]:
                if slots[slot] == values[i]:
                    held[row] = True
                    break
                slot = (slot + 1) & (size - 1)
            if held[row]:
                break
        start = ends[row]
    return held


@njit(cache=True, nogil=True)
def _sort_descending(values):
    """Shell's sort, largest first (numba's own sort costs many seconds to compile)."""
    gap = len(values) // 2
    while gap > 0:
        for i in range(gap, len(values)):
            value = values[i]
            j = i
            while j >= gap and values[j - gap] < value:
                values[j] = values[j - gap]
                j -= gap
            values[j] = value
        gap = gap * 5 // 11 if gap > 2 else gap - 1


@njit(cache=True, nogil=True)
def aligned_chains(doc_shingles, source_shingles, max_gap, max_occurrences):
    """Chains of shared shingles, as rows (doc_first, doc_last, source_first, source_last).

    Pairs (repost position, source position) with the same shingle are taken in repost then
    source order (a shingle the source holds more than `max_occurrences` times is a stock
    phrase, left out). Each pair extends the first open chain it continues (each side
    advancing by 1..max_gap, the diagonal moving by at most max_gap) or opens a new one; a
    chain more than max_gap behind can never grow again and is closed.
    """
    # Source and repost shingles numbered together: a repost shingle's number says where the
    # source holds it (first, then each following position, in order) and how often.
    both = np.empty(len(source_shingles) + len(doc_shingles), np.uint64)
    both[: len(source_shingles)] = source_shingles
    both[len(source_shingles) :] = doc_shingles
    numbers, known = numbered_values(both)
    first = np.full(known, -1, np.int64)
    counts = np.zeros(known, np.int64)
    following = np.empty(len(source_shingles), np.int64)
    for position in range(len(source_shingles) - 1, -1, -1):  # from the end, so each chain runs forwards
        number = numbers[position]
        following[position] = first[number]
        first[number] = position
        counts[number] += 1
    chains = np.empty((len(doc_shingles) + 16, 4), np.int64)  # grown when a repost opens more
    count = 0
    active = np.empty(len(chains), np.int64)
    active_count = 0
    for i in range(len(doc_shingles)):
        number = numbers[len(source_shingles) + i]
        if first[number] == -1 or counts[number] > max_occurrences:
            continue
        j = first[number]
        while j != -1:
            if active_count > 4:
                kept = 0
                for m in range(active_count):
                    if i - chains[active[m], 1] <= max_gap:
                        active[kept] = active[m]
                        kept += 1
                active_count = kept
            joined = False
            for m in range(active_count):
                c = active[m]
                step_doc, step_source = i - chains[c, 1], j - chains[c, 3]
                if 0 < step_doc <= max_gap and 0 < step_source <= max_gap and abs(step_source - step_doc) <= max_gap:
                    chains[c, 1], chains[c, 3] = i, j
                    joined = True
                    break
            if not joined:
                if count == len(chains):
                    grown = np.empty((2 * len(chains), 4), np.int64)
                    grown[:count] = chains[:count]
                    chains = grown
                    more = np.empty(len(chains), np.int64)
                    more[:active_count] = active[:active_count]
                    active = more
                chains[count, 0], chains[count, 1], chains[count, 2], chains[count, 3] = i, i, j, j
                active[active_count] = count
                active_count += 1
                count += 1
            j = following[j]
    return chains[:count]


@njit(cache=True, nogil=True)
def possible_ellipses(points, block_starts, space_table):
    """For each block (from `block_starts[b]` to the next start), whether it holds "…" or two
    full stops with at most one whitespace character between them (what an ellipsis needs)."""
    found = np.zeros(len(block_starts), np.bool_)
    block = 0
    n = len(points)
    for i in range(n):
        while block + 1 < len(block_starts) and block_starts[block + 1] <= i:
            block += 1
        point = points[i]
        if point == 0x2026:
            found[block] = True
        elif point == 46 and i + 1 < n:
            after = points[i + 1]
            if after == 46:
                found[block] = True
            elif after < len(space_table) and space_table[after] and i + 2 < n and points[i + 2] == 46:
                found[block] = True
    return found


@njit(cache=True, nogil=True)
def _same_end(hashes, bounds, i, j, from_end):
    """Whether blocks i and j open (or end) with the same three words, or fewer if that is all they have."""
    size = min(3, bounds[i + 1] - bounds[i])
    if size != min(3, bounds[j + 1] - bounds[j]):
        return False
    for k in range(size):
        first = hashes[bounds[i + 1] - size + k] if from_end else hashes[bounds[i] + k]
        second = hashes[bounds[j + 1] - size + k] if from_end else hashes[bounds[j] + k]
        if first != second:
            return False
    return True


@njit(cache=True, nogil=True)
def possible_repeats(hashes, word_starts, word_lengths, block_starts, skip, min_words, similar_lengths, window, per_block):
    """Pairs (i, j), i < j <= i + `window`, at most `per_block` for each i, of blocks that may
    be nearly alike: rows of an (n, 2) array. The bounds keep time and the pairs linear in
    the blocks: 4,000 similar short paragraphs made 8 million pairs (1.5 GB) without them.

    The blocks are one text, block b starting at character `block_starts[b]`; its words are
    those starting from there on (`word_starts`), with their hashes and normalised lengths.
    A block's normalised length is its words' joined by single spaces. A pair is kept when
    both blocks have `min_words` words, the first is not marked in `skip`, their lengths are
    within `similar_lengths` of each other or they share their first or last three words (a
    credit added at one end), neither is under 0.6 of the other's length, and they share at
    least half of the smaller one's distinct words: each is what `repetition._nearly_alike`
    needs to hold.
    """
    n = len(block_starts)
    bounds = np.empty(n + 1, np.int64)
    word = 0
    for b in range(n):
        while word < len(word_starts) and word_starts[word] < block_starts[b]:
            word += 1
        bounds[b] = word
    bounds[n] = len(word_starts)
    lengths = np.zeros(n, np.int64)
    numbers, known = numbered_values(hashes)
    distinct = np.empty(len(hashes), np.int64)  # each block's distinct words, by number
    runs = np.zeros(n + 1, np.int64)  # where each block's run of them starts
    last_block = np.full(known, -1, np.int64)
    for b in range(n):
        end = runs[b]
        for w in range(bounds[b], bounds[b + 1]):
            lengths[b] += word_lengths[w] + (1 if w > bounds[b] else 0)
            if last_block[numbers[w]] != b:
                last_block[numbers[w]] = b
                distinct[end] = numbers[w]
                end += 1
        runs[b + 1] = end
    in_first = np.full(known, -1, np.int64)  # which first block of a pair holds each word
    pairs = np.empty((16, 2), np.int64)
    count = 0
    for i in range(n):
        if skip[i] or bounds[i + 1] - bounds[i] < min_words:
            continue
        for k in range(runs[i], runs[i + 1]):
            in_first[distinct[k]] = i
        kept = 0
        for j in range(i + 1, min(n, i + 1 + window)):
            if kept == per_block:
                break
            if bounds[j + 1] - bounds[j] < min_words:
                continue
            short, long = min(lengths[i], lengths[j]), max(lengths[i], lengths[j])
            if short < 0.6 * long:
                continue
            if short < long * similar_lengths and not _same_end(hashes, bounds, i, j, False) \
                    and not _same_end(hashes, bounds, i, j, True):
                continue
            shared = 0
            for k in range(runs[j], runs[j + 1]):
                shared += in_first[distinct[k]] == i
            if shared * 2 < min(runs[i + 1] - runs[i], runs[j + 1] - runs[j]):
                continue
            if count == len(pairs):
                grown = np.empty((2 * len(pairs), 2), np.int64)
                grown[:count] = pairs[:count]
                pairs = grown
            pairs[count, 0], pairs[count, 1] = i, j
            count += 1
            kept += 1
    return pairs[:count]


_warming: threading.Thread | None = None


def start_warming_up() -> None:
    """Begin `warm_up` on a thread: loading the kernels takes about half a second, most of
    which can pass while the scan reads its index and lists its files."""
    global _warming
    if _warming is None:
        _warming = threading.Thread(target=_load_kernels, name="compliance-kernels", daemon=True)
        _warming.start()


def warm_up() -> None:
    """Load every kernel (from numba's cache, or compiling it) in this process, for the
    argument types matching uses, so that worker processes forked afterwards inherit them
    instead of each loading them again."""
    start_warming_up()
    assert _warming is not None
    _warming.join()


def _code_point_arrays(text: str) -> tuple[np.ndarray, ...]:
    """Code points in each array type a text reaches the kernels in: read-only bytes (ASCII)
    and read-only 32-bit (other text, patched or not)."""
    return np.frombuffer(text.encode("ascii"), np.uint8), np.frombuffer(text.encode("utf-32-le"), np.uint32)


def _without_scipy_probe() -> None:
    """Load numba's numpy support without letting it import scipy.linalg.

    On its first compilation or cache load, numba imports `numba.np.arraymath`, which imports
    `scipy.linalg` (and through it numpy.f2py) only to learn whether `np.convolve` and
    `np.correlate` may call BLAS. These kernels call neither, and the import took a quarter
    of a second of every scan's start. numba's own BLAS check is restored afterwards, so that
    linear algebra compiled later in this process still finds scipy."""
    if "numba.np.arraymath" in sys.modules:
        return
    import numba.np.linalg as linalg

    probe = getattr(linalg, "ensure_blas", None)
    if probe is None:  # another numba: leave it alone
        return

    def without_blas() -> None:
        raise ImportError("not needed by compliance's kernels")

    linalg.ensure_blas = without_blas
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        linalg.ensure_blas = probe


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view: numba compiles a kernel apart for read-only and writable arrays, so
    the arrays a scan shares with its workers are always handed over read-only."""
    view = array.view()
    view.flags.writeable = False
    return view


def _load_kernels() -> None:
    _without_scipy_probe()
    shingles = shingle_hashes(np.arange(1, 53, dtype=np.uint64), 4)
    table = np.ones(1 << 16, np.bool_)
    for points in _code_point_arrays("a b. ."):
        word_spans(points, table)
        possible_ellipses(points, np.array([0, 2]), table)
    a = np.ones(32, np.uint32)
    keys = band_keys(window_signatures(shingles, a, a, np.arange(0, 10, 10), 40, 10), 16, 2).ravel()
    grouped, owners, directory = keys.copy(), np.zeros(len(keys), np.int32), np.zeros(17, np.uint32)
    group_by_prefix(grouped, owners, directory, 60)
    # as BandIndex holds them; an index of over 2**32 keys (no catalogue comes near) has a
    # 64-bit directory, and loads those kernels when first used
    shared_key_owners(*map(read_only, (grouped, owners, directory)), 60, keys, 64)
    shingle_candidates(shingles, a, a, np.arange(0, 10, 10), 40, 10, 16, 2, *map(read_only, (grouped, owners, directory)), 60, 64, 20)
    aligned_chains(shingles, shingles, 6, 8)
    ranked_owners(owners, 20)
    distinct_values(keys)
    words = np.arange(1, 53, dtype=np.uint64)
    starts = np.arange(0, 104, 2)
    possible_repeats(words, starts, np.ones(52, np.int64), np.array([0, 52]), np.zeros(2, np.bool_), 6, 0.85, 256, 16)
