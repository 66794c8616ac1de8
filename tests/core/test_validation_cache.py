"""Validation results are cached by the parsed document's identity (core/validation_cache.py):
a document is validated once however often it runs, a new document object (the parser cache
dropped the old one) is validated afresh, and every caller gets the errors as validation gives
them."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse, specified_rules
from strawberry.schema.schema import validate_document

from graphql_api.core import validation_cache
from graphql_api.core.settings import Settings
from graphql_api.core.validation_cache import ValidationResults
from graphql_api.schema import build_schema

RULES = tuple(specified_rules)  # what Strawberry validates with before extensions add theirs


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema(Settings(_env_file=None))._schema


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def counted(schema: Any, document: Any, rules: Any) -> Any:
        seen.append(document.loc.source.body if document.loc else "?")
        return validate_document(schema, document, rules)

    monkeypatch.setattr(validation_cache, "validate_document", counted)
    return seen


def test_a_document_is_validated_once(schema: Any, validations: list[str]) -> None:
    results = ValidationResults(maxsize=8)
    document = parse("{ products(first: 2) { edges { node { id } } } }")
    for _ in range(5):
        assert results.errors(schema, document, RULES) == []
    assert len(validations) == 1


def test_errors_are_the_validators_and_each_callers_own(schema: Any,
                                                        validations: list[str]) -> None:
    results = ValidationResults(maxsize=8)
    document = parse("{ products(first: 2) { nope } }")
    first = results.errors(schema, document, RULES)
    expected = validate_document(schema, document, RULES)
    assert [e.formatted for e in first] == [e.formatted for e in expected] and first
    first.clear()  # one caller's edits do not reach the next
    again = results.errors(schema, document, RULES)
    assert [e.formatted for e in again] == [e.formatted for e in expected]
    assert len(validations) == 1


def test_the_same_text_parsed_again_is_validated_again(schema: Any,
                                                       validations: list[str]) -> None:
    results = ValidationResults(maxsize=8)
    text = "{ __typename }"
    one, two = parse(text), parse(text)
    results.errors(schema, one, RULES)
    results.errors(schema, two, RULES)
    assert len(validations) == 2
    results.errors(schema, one, RULES)
    results.errors(schema, two, RULES)
    assert len(validations) == 2


def test_other_rules_are_another_entry(schema: Any, validations: list[str]) -> None:
    from graphql.validation import NoSchemaIntrospectionCustomRule

    results = ValidationResults(maxsize=8)
    document = parse("{ __schema { queryType { name } } }")
    assert results.errors(schema, document, RULES) == []
    refused = results.errors(schema, document, (*RULES, NoSchemaIntrospectionCustomRule))
    assert refused and "introspection" in refused[0].message
    assert len(validations) == 2


def test_least_recently_used_out_beyond_the_bound(schema: Any, validations: list[str]) -> None:
    results = ValidationResults(maxsize=2)
    documents = [parse(f"{{ a{i}: __typename }}") for i in range(3)]
    results.errors(schema, documents[0], RULES)
    results.errors(schema, documents[1], RULES)
    results.errors(schema, documents[0], RULES)  # 0 used last: 1 goes first
    results.errors(schema, documents[2], RULES)
    assert len(results) == 2
    results.errors(schema, documents[0], RULES)
    assert len(validations) == 3
    results.errors(schema, documents[1], RULES)
    assert len(validations) == 4
