"""groove's full-text index: BM25 over each learning's text in tantivy, a kept search
engine (https://github.com/quickwit-oss/tantivy, Python bindings ``tantivy``).

Why tantivy: its top-k collector skips the documents that cannot enter the top k
(block-max WAND, Ding & Suel, "Faster top-k document retrieval using block-max indexes",
SIGIR 2011), so a query of many OR-ed words costs about what its best matches cost. SQLite
FTS5 scores every match: on the rule corpus at 100,000 learnings a three-keyword query
took 36 ms p50 in FTS5 against 0.5 ms in tantivy, a whole sentence 320 ms against 2 ms
(``benchmarks/bench_peer.py`` keeps FTS5 as the peer).

Texts are tokenised by tantivy's ``en_stem`` analyser (split on non-alphanumerics, lower
case, English Snowball stemmer); a query is the OR of its words, ranked by BM25
(Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
Foundations and Trends in IR, 2009). Besides the texts the index holds one ``meta``
document naming the tier and the change-log ``seq`` it covers, written in the same commit
as the texts, so the index says atomically which state it holds.

This class is a building block of :class:`groove_core.store.docs.DocumentIndex`, which
decides what to write (it follows the tier's change log); writes from several processes
are serialised there.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import tantivy

from groove_core.errors import DatabaseError

#: Folder (inside the tier's index folder) of the tantivy index; the suffix changes with
#: the schema, so an index of an older layout is left aside and rebuilt.
FOLDER = "text-v1"
_META_ID = "meta"  # no learning id (a UUID) can take it
_WORD = re.compile(r"[^\W_]+")  # what tantivy's tokenizer keeps as a word
#: Writer memory (bytes): the least tantivy takes for one thread, and what a rebuild uses.
_HEAP_SMALL = 15_000_000
_HEAP_BUILD = 100_000_000


def query_words(text: str, limit: int = 64) -> list[str]:
    """The distinct lower-cased words of ``text`` (runs of letters and digits, as the
    index's tokenizer splits them), in order, at most ``limit``."""
    return list(dict.fromkeys(_WORD.findall(text.lower())))[:limit]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("body", tokenizer_name="en_stem", index_option="freq")
    builder.add_text_field("tier_uid", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("seq", stored=True)
    return builder.build()


class TantivyText:
    """A BM25 index of ``(learning id, text)`` pairs in ``folder`` (in memory when None).

    Raises:
        DatabaseError: the folder cannot be used (a damaged index is removed and started
            again: it is derived data).
    """

    def __init__(self, folder: Path | None):
        self.folder = folder / FOLDER if folder is not None else None
        self._schema = _schema()
        self._lock = threading.Lock()
        self._index = self._open()
        self._searcher = self._index.searcher()

    def _open(self) -> tantivy.Index:
        if self.folder is None:
            index = tantivy.Index(self._schema)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                index = tantivy.Index(self._schema, path=str(self.folder))
            except (OSError, ValueError):
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder.mkdir(parents=True, exist_ok=True)
                try:
                    index = tantivy.Index(self._schema, path=str(self.folder))
                except (OSError, ValueError) as err:
                    raise DatabaseError(f"full-text index at {self.folder}: {err}") from None
        index.config_reader(reload_policy="Manual")
        return index

    # ------------------------------------------------------------ reads
    def reload(self) -> None:
        """See the last commit (of any process)."""
        with self._lock:
            self._index.reload()
            self._searcher = self._index.searcher()

    def covered(self) -> tuple[str, int] | None:
        """``(tier_uid, seq)`` the loaded state covers, or None for an empty index."""
        searcher = self._searcher
        query = tantivy.Query.term_query(self._schema, "id", _META_ID, index_option="basic")
        hits = searcher.search(query, 1, count=False).hits
        if not hits:
            return None
        doc = searcher.doc(hits[0][1])
        return doc["tier_uid"][0], int(doc["seq"][0])

    def ids(self) -> list[str]:
        """Every learning id in the loaded state, sorted (for checks; reads them all)."""
        searcher = self._searcher
        n = searcher.num_docs
        if not n:
            return []
        hits = searcher.search(tantivy.Query.all_query(), n, count=False).hits
        return sorted(i for _, a in hits if (i := searcher.doc(a)["id"][0]) != _META_ID)

    def query(self, text: str, k: int, ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best texts for the OR of the words of ``text`` (among ``ids`` when
        given): (id, BM25 score, higher is better), best first; [] when ``text`` has no
        word."""
        words = query_words(text)
        if not words or k < 1 or (ids is not None and not ids):
            return []
        searcher = self._searcher
        try:
            query = self._index.parse_query(" ".join(words), ["body"])
            if ids is not None:  # a filter that adds nothing to the score
                among = tantivy.Query.term_set_query(self._schema, "id", list(ids))
                query = query.and_must_match(tantivy.Query.const_score_query(among, 0.0))
            hits = searcher.search(query, int(k), count=False).hits
        except ValueError as err:
            raise DatabaseError(f"full-text query failed: {err}") from None
        return [(searcher.doc(addr)["id"][0], float(score)) for score, addr in hits]

    # ------------------------------------------------------------ writes
    def write(
        self,
        docs: Iterable[tuple[str, str]],
        removed: Iterable[str],
        state: tuple[str, int],
        *,
        clear: bool = False,
    ) -> None:
        """Replace the texts of ``docs`` (id, text), remove ``removed`` ids (``clear``:
        every text first) and record ``state`` (tier_uid, seq), in ONE commit; then load
        it. Callers serialise writers across processes (tantivy allows one at a time)."""
        with self._lock:
            writer = self._index.writer(
                heap_size=_HEAP_BUILD if clear else _HEAP_SMALL, num_threads=1
            )
            try:
                if clear:
                    writer.delete_all_documents()
                writer.delete_documents_by_term("id", _META_ID)
                for learning_id in removed:
                    writer.delete_documents_by_term("id", learning_id)
                for learning_id, text in docs:
                    if not clear:
                        writer.delete_documents_by_term("id", learning_id)
                    writer.add_document(tantivy.Document(id=learning_id, body=text))
                writer.add_document(
                    tantivy.Document(id=_META_ID, tier_uid=state[0], seq=int(state[1]))
                )
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
            self._index.reload()
            self._searcher = self._index.searcher()
