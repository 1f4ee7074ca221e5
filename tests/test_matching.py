"""Which source a repost copies, on real articles: copies, edits, excerpts, same-event stories."""
from __future__ import annotations

import random
import re

from conftest import DISCLAIMER, load, paragraphs, write_txt

from compliance.similarity.fingerprint import minhash, shingle_hashes
from compliance.similarity.tokens import normalize_text, normalize_word, tokenize

WEWORK_VB, WEWORK_TC = "sh-06e5123e4ef7", "sh-1ace8c85aaee"
METH_HILL, METH_NJ = "sh-156770d676ce", "sh-3f65af7b6b98"
RESCUE_CBS, RESCUE_NBC = "sh-2c46804d9db4", "sh-51d066b0602c"
NASA = "sh-42aad16bde92"


def matched_id(matcher, path):
    match = matcher.match(load(path))
    return match.source.id if match else None


def test_normalising_folds_case_width_and_punctuation():
    assert normalize_text("“Ｎｅｗｓ”  — CAFÉ’s\u00a0Menu!") == "news café s menu"


def test_normalised_text_is_the_normalised_regex_words(corpus):
    ascii_edges = "under_score\tTAB\x0bvt\x1fus 3.14 don't A-B_c [x]{y} ~`!@#$%^&*() \x00nul"
    texts = [record["text"] for record in corpus.values()] + [ascii_edges, "Ünïcödé — x"]
    for text in texts:
        assert normalize_text(text) == " ".join(normalize_word(w) for w in re.findall(r"\w+", text))


def test_tokens_point_at_the_original_characters():
    text = "Straße, “quoted” Word"
    tokens = tokenize(text)
    assert [text[s:e] for s, e in zip(tokens.starts, tokens.ends)] == ["Straße", "quoted", "Word"]
    assert tokens.words[0] == "strasse"


def test_minhash_agrees_with_datasketch_jaccard_estimate():
    a = shingle_hashes(tokenize("one two three four five six seven eight nine ten").hashes, 3)
    b = shingle_hashes(tokenize("one two three four five six seven eight nine eleven").hashes, 3)
    assert minhash(a, 128).jaccard(minhash(a, 128)) == 1.0
    assert 0.5 < minhash(a, 128).jaccard(minhash(b, 128)) < 1.0


def test_full_copy_with_disclaimer_matches_its_source(tmp_path, corpus, matcher):
    article = corpus[WEWORK_VB]
    path = write_txt(tmp_path, "copy.txt", article["title"], paragraphs(article) + [DISCLAIMER])
    match = matcher.match(load(path))
    assert match.source.id == WEWORK_VB
    assert match.containment > 0.95 and match.coverage > 0.95


def test_lightly_edited_copy_still_matches(tmp_path, corpus, matcher):
    """A paragraph dropped, two swapped and filler words slipped in every few words."""
    rng = random.Random(7)
    body = paragraphs(corpus[METH_NJ])
    del body[2]
    body[3], body[4] = body[4], body[3]
    edited = []
    for paragraph in body:
        words = paragraph.split()
        for position in range(len(words) - 1, 0, -9):
            words.insert(position, rng.choice(["reportedly", "indeed", "also"]))
        edited.append(" ".join(words))
    path = write_txt(tmp_path, "edited.txt", corpus[METH_NJ]["title"], edited)
    match = matcher.match(load(path))
    assert match is not None and match.source.id == METH_NJ
    assert match.containment > 0.6


def test_excerpt_matches_with_high_containment_and_low_coverage(tmp_path, corpus, matcher):
    body = paragraphs(corpus[NASA])[:3]
    match = matcher.match(load(write_txt(tmp_path, "excerpt.txt", "NASA", body + [DISCLAIMER])))
    assert match.source.id == NASA
    assert match.containment > 0.9
    assert match.coverage < 0.35


def test_independent_articles_on_the_same_event_do_not_match(tmp_path, corpus, matcher):
    """Each of a pair is matched to itself, never to the other publisher's story."""
    for one, other in [(WEWORK_TC, WEWORK_VB), (METH_HILL, METH_NJ), (RESCUE_NBC, RESCUE_CBS)]:
        article = corpus[one]
        path = write_txt(tmp_path, f"{one}.txt", article["title"], paragraphs(article))
        assert matched_id(matcher, path) == one


def test_original_writing_matches_nothing(tmp_path, matcher):
    body = ["Our newsroom wrote this piece about the city council's new budget, which raises "
            "spending on parks and libraries while trimming the road maintenance fund for next year."]
    assert matched_id(matcher, write_txt(tmp_path, "original.txt", "Budget", body)) is None


def test_html_copy_wrapped_in_site_debris_matches(tmp_path, corpus, matcher):
    article = corpus[RESCUE_CBS]
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs(article))
    page = (
        "<html><head><title>Rescue</title><script>var tracking = 1;</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<div class='cookie'>We use cookies to improve your experience. Accept all cookies?</div>"
        f"<article><h1>{article['title']}</h1>\n{body}</article>"
        "<aside><h2>Related stories</h2><p>Ten gadgets you need this winter</p></aside>"
        "<footer>Photo credits: staff. All rights reserved.</footer></body></html>"
    )
    path = tmp_path / "wrapped.html"
    path.write_text(page, encoding="utf-8")
    match = matcher.match(load(path))
    assert match.source.id == RESCUE_CBS
    assert match.containment > 0.9


def test_spans_point_at_copied_lines_on_both_sides(tmp_path, corpus, matcher):
    article = corpus[WEWORK_VB]
    own = "This opening paragraph is the desk's own introduction and is copied from nowhere at all today."
    path = write_txt(tmp_path, "spans.txt", "WeWork", [own] + paragraphs(article)[:4])
    match = matcher.match(load(path))
    first = min(match.spans, key=lambda span: span.line)
    assert first.line == 8  # the first copied paragraph, after the desk's own one on line 6
    source_text = match.source.text
    start, end = first.source_chars
    assert normalize_text(source_text[start:end]).startswith(normalize_text(paragraphs(article)[0])[:40])


def _reference_runs(doc, source, shingle_words=4, max_gap=6, min_words=10, max_occurrences=8):
    """The chaining rule walked pair by pair, as first written: the oracle for the numpy version."""
    positions: dict[int, list[int]] = {}
    for j, value in enumerate(source.tolist()):
        positions.setdefault(value, []).append(j)
    chains, active = [], []
    for i, value in enumerate(doc.tolist()):
        found = positions.get(value, [])
        if not found or len(found) > max_occurrences:
            continue
        for j in found:
            for chain in active:
                if 0 < i - chain[1] <= max_gap and 0 < j - chain[3] <= max_gap and abs((j - i) - (chain[3] - chain[1])) <= max_gap:
                    chain[1], chain[3] = i, j
                    break
            else:
                chain = [i, i, j, j]
                active.append(chain)
                chains.append(chain)
    runs = [(c[0], c[1] + shingle_words, c[2], c[3] + shingle_words) for c in chains]
    return [run for run in runs if run[1] - run[0] >= min_words]


def edited_copy(article: dict, rng: random.Random) -> str:
    """Paragraphs shuffled a little, one dropped, and words inserted or replaced here and there."""
    body = paragraphs(article)
    if len(body) > 3:
        del body[rng.randrange(len(body))]
        i = rng.randrange(len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    edited = []
    for paragraph in body:
        words = paragraph.split()
        for position in range(len(words) - 1, 0, -rng.randint(5, 12)):
            if rng.random() < 0.5:
                words.insert(position, rng.choice(["reportedly", "indeed", "also"]))
            else:
                words[position] = rng.choice(["said", "the", "new"])
        edited.append(" ".join(words))
    return "\n\n".join(edited)


def test_aligned_runs_match_the_pair_by_pair_rule_on_edited_copies(corpus):
    from compliance.similarity.verify import aligned_runs

    rng = random.Random(7)
    for article in corpus.values():
        source = shingle_hashes(tokenize(article["text"]).hashes, 4)
        for _ in range(3):
            copy = edited_copy(article, rng)
            doc = shingle_hashes(tokenize(copy).hashes, 4)
            ours = [(r.doc_start, r.doc_end, r.source_start, r.source_end) for r in aligned_runs(doc, source, 4, 6, 10)]
            assert ours == _reference_runs(doc, source) and ours


def test_aligned_runs_match_the_pair_by_pair_rule_on_repetitive_text():
    """Few distinct words: shingles repeat, some beyond `max_occurrences`, and a repost opens
    more chains than it has shingles."""
    from compliance.similarity.verify import aligned_runs

    rng = random.Random(11)
    for _ in range(60):
        vocabulary = ["war", "peace", "and", "more"][: rng.randint(2, 4)]
        source_words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 400))]
        doc_words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 200))] + source_words[: rng.randint(0, 200)]
        source = shingle_hashes(tokenize(" ".join(source_words)).hashes, 4)
        doc = shingle_hashes(tokenize(" ".join(doc_words)).hashes, 4)
        for max_occurrences in (8, 40):
            ours = [(r.doc_start, r.doc_end, r.source_start, r.source_end)
                    for r in aligned_runs(doc, source, 4, 6, 10, max_occurrences)]
            assert ours == _reference_runs(doc, source, max_occurrences=max_occurrences)


def test_matching_leaves_out_the_words_of_every_boilerplate_block(corpus):
    """The desk's disclaimer, wherever it stands (first, between paragraphs, last, twice, or
    cut short), contributes no words; every other block's words stay, in order."""
    import numpy as np

    from compliance.model import Block, BlockKind, Document
    from compliance.similarity.matcher import BodyText

    rng = random.Random(5)
    texts = [p for article in corpus.values() for p in paragraphs(article)]
    for _ in range(40):
        chosen = rng.sample(texts, rng.randint(0, 6))
        for _ in range(rng.randint(0, 3)):
            chosen.insert(rng.randint(0, len(chosen)), rng.choice([DISCLAIMER, DISCLAIMER[: len(DISCLAIMER) // 2]]))
        document = Document("r.txt", "txt", "", [Block(BlockKind.PARAGRAPH, t, i + 1, i + 1) for i, t in enumerate(chosen)])
        body = BodyText.of(document, (DISCLAIMER,))
        tokens = body.tokens()
        everything = tokenize(body.text)
        keep = np.ones(len(everything), dtype=bool)
        for start, end in body.ignored:
            keep &= ~((everything.starts >= start) & (everything.starts < end))
        assert tokens.starts.tolist() == everything.starts[keep].tolist()
        assert tokens.hashes.tolist() == everything.hashes[keep].tolist()
        assert len(body.ignored) == sum(t.startswith(DISCLAIMER[:40]) for t in chosen)


def test_the_quick_test_for_desk_text_never_turns_away_what_the_full_one_finds(corpus):
    """`is_boilerplate` first asks an ASCII block for enough characters in the opening's order;
    on every paragraph, and on the disclaimer cut, edited, re-cased or punctuated, it answers
    as the full comparison does."""
    from rapidfuzz import fuzz

    from compliance.similarity.matcher import is_boilerplate

    def full_comparison(text: str, desk: tuple[str, ...]) -> bool:
        head = normalize_text(text[:120])[:60]
        return any(fuzz.ratio(head, normalize_text(t)[:60], score_cutoff=85) for t in desk)

    rng = random.Random(9)
    variants = [DISCLAIMER, DISCLAIMER.upper(), DISCLAIMER[:70], DISCLAIMER.replace(":", " --"), "Note: " + DISCLAIMER,
                "Editor's note. " + DISCLAIMER, DISCLAIMER.replace("The copyright", "Copyright"), DISCLAIMER[12:]]
    for _ in range(200):  # words dropped, doubled or swapped for others
        words = DISCLAIMER.split()[:14]
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(words))
            words[position:position + 1] = rng.choice([[], [words[position]] * 2, ["x"], [words[position].upper() + "!"]])
        variants.append(" ".join(words))
    accented = "Ünïcode dïsclaimer: the çafé owns this, not us. " * 2  # an opening with non-ASCII letters
    variants += [accented, accented.replace("Ü", "U").replace("ï", "i"), "Unicode disclaimer: the cafe owns this, not us."]
    texts = variants + [p for article in corpus.values() for p in paragraphs(article)]
    for desk in ((DISCLAIMER,), ("Disclaimer: views are the author's own.", DISCLAIMER), (accented,)):
        answers = [is_boilerplate(text, desk) for text in texts]
        assert answers == [full_comparison(text, desk) for text in texts]
        assert any(answers)


def test_warming_up_loads_every_kernel_a_scan_calls(corpus):
    """Workers forked after `warm_up` must find each kernel ready for the array types real
    text brings (read-only bytes, read-only and patched 32-bit code points): a missing one is
    compiled or loaded again in every worker."""
    from compliance.checks.rules.repetition import BlockText
    from compliance.model import Block, BlockKind
    from compliance.similarity import kernels

    kernels.warm_up()
    compiled = {name: len(getattr(kernels, name).signatures) for name in dir(kernels)
                if hasattr(getattr(kernels, name), "signatures")}
    for text in ["plain ascii. . words", "“Curly” quotes… and café", "emoji 😀 beyond the BMP…", corpus[NASA]["text"]]:
        tokenize(text)
        BlockText([Block(BlockKind.PARAGRAPH, text, 1, 1)])
    assert {name: len(getattr(kernels, name).signatures) for name in compiled} == compiled


def test_loading_the_kernels_does_not_import_scipy_and_leaves_numba_linear_algebra_working():
    """numba's numpy support asks scipy.linalg whether BLAS exists, a quarter of a second of
    every scan's start; the kernels need no BLAS. Linear algebra compiled later in the same
    process must still find it. A fresh interpreter, so that nothing imported scipy before."""
    import subprocess
    import sys

    program = (
        "import sys\n"
        "from compliance.similarity import kernels\n"
        "kernels.warm_up()\n"
        "print('scipy.linalg' in sys.modules)\n"
        "import numba, numpy as np\n"
        "product = numba.njit(lambda a, b: np.dot(a, b))\n"
        "print(product(np.eye(2), np.full((2, 2), 3.0)).sum())\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "12.0"]


def test_the_rules_find_the_tokens_matching_made_for_a_whole_chunk(tmp_path, corpus, matcher, default_pack):
    """A scan matches a whole chunk before any rule reads it: the repetition rule must still
    find each body's tokens in the tokeniser's cache, or every body is tokenised twice."""
    import datetime as dt

    from compliance import pipeline

    articles = list(corpus.values())
    files = []
    for n in range(pipeline.CHUNK):
        article = articles[n % len(articles)]
        name = f"r{n:02d}.txt"
        body = paragraphs(article)[: 4 + n % 5] + [f"Repost {n} of the chunk."]
        files.append((write_txt(tmp_path, name, article["title"], body), name))
    checker = pipeline._Checker(matcher, default_pack, 10**7, [], dt.date.today())
    tokenize.cache_clear()
    results = checker.check_all(files)
    assert all(result.match for result in results)
    assert tokenize.cache_info().hits >= len(files)
