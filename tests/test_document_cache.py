"""The document cache keeps normal documents and bounds what it holds by size, not only count."""

from __future__ import annotations

from infra.document_cache import MAX_DOCUMENT_CHARS, DocumentCache
from infra.schema import schema


def _cache(**bounds: int) -> DocumentCache:
    return DocumentCache(schema.graphql_schema, [], **bounds)


def test_a_normal_document_is_parsed_once() -> None:
    cache = _cache()
    first = cache.get("{ charities { code } }")
    assert cache.get("{ charities { code } }") is first
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)


def test_a_document_over_the_size_limit_is_checked_but_never_kept() -> None:
    cache = _cache()
    big = "{ charities { code } }\n#" + "x" * MAX_DOCUMENT_CHARS
    document, errors = cache.get(big)
    assert document is not None and errors == []
    bad, bad_errors = cache.get(big.replace("code", "cod"))
    assert bad is None and bad_errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert (len(cache), cache.total_chars) == (0, 0)


def test_the_texts_kept_stay_within_the_total() -> None:
    cache = _cache(max_document_chars=1000, max_total_chars=2500)
    texts = [f"{{ charities {{ code }} }}\n#{i}" + "x" * 900 for i in range(5)]
    for text in texts:
        cache.get(text)
        assert cache.total_chars <= 2500
    assert len(cache) == 2  # the oldest were evicted
    assert cache.total_chars == sum(len(t) for t in texts[-2:])
    cache.get(texts[-1])
    assert cache.hits == 1


def test_the_count_bound_still_holds() -> None:
    cache = _cache(max_entries=3)
    for i in range(10):
        cache.get(f"{{ charities {{ code }} }} #{i}")
    assert len(cache) == 3
    assert cache.total_chars == sum(len(f"{{ charities {{ code }} }} #{i}") for i in (7, 8, 9))


def test_parsing_stops_at_the_token_limit() -> None:
    cache = _cache(max_tokens=10)
    at_limit = "{ charities { code } charities { code } }"  # 10 tokens: { x { y } x { y } }
    document, errors = cache.get(at_limit)
    assert document is not None and errors == []
    over, [error] = cache.get(at_limit.replace("} }", "} __typename }"))  # 11 tokens
    assert over is None and error.extensions == {"code": "TOO_MANY_TOKENS"}
    assert error.message == ("the document has more than 10 tokens; send values in variables, "
                             "or split the query")
    # Comments count: a run of them cannot stand in for fields.
    commented, [error] = cache.get(at_limit.replace("{ code }", "{ code #\n }", 1))
    assert commented is None and error.extensions == {"code": "TOO_MANY_TOKENS"}
    run, [error] = cache.get("#\n" * 30_000 + at_limit)  # nor can a run of them before any field
    assert run is None and error.extensions == {"code": "TOO_MANY_TOKENS"}
    bad, [error] = cache.get("{ charities { code }")  # other syntax errors keep their code
    assert bad is None and error.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
