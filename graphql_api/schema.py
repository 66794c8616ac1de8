"""Assembles Query, Mutation and Subscription from the domains, with the hardening extensions."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.name_converter import NameConverter as StrawberryNameConverter
from strawberry.types import Info
from strawberry.types.execution import ExecutionContext, ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType
from strawberry.utils.await_maybe import await_maybe

from graphql_api.accounts.management import AccountManagementMutation, AccountManagementQuery
from graphql_api.accounts.types import AccountsMutation, AccountsQuery, resolve_user_node
from graphql_api.admin_stats import AdminStatsQuery
from graphql_api.cache_stats import CacheStatsQuery
from graphql_api.carts.types import CartMutation, CartQuery, resolve_cart_node
from graphql_api.catalog.review_types import (
    ReviewMutation,
    WishlistMutation,
    WishlistQuery,
    resolve_review_node,
)
from graphql_api.catalog.types import (
    CatalogMutation,
    CatalogQuery,
    Product,
    resolve_category_node,
    resolve_product_node,
)
from graphql_api.core.error_policy import ErrorPolicy, policed
from graphql_api.core.errors import Unauthenticated
from graphql_api.core.events import PRODUCT_CHANGED, channel
from graphql_api.core.execution_diff import DiffExecutor
from graphql_api.core.fast_execution import FastExecutor
from graphql_api.core.ids import decode_pk, from_global_id
from graphql_api.core.models import utcnow
from graphql_api.core.operation_scope import OperationScope
from graphql_api.core.prepared_operations import PreparedOperations
from graphql_api.core.scalars import Node
from graphql_api.core.settings import Settings
from graphql_api.core.streams import SharedEventExecutor, until
from graphql_api.core.validation_cache import DocumentValidationCache, ValidationResults
from graphql_api.metrics.types import MetricsQuery
from graphql_api.orders.types import (
    OrderMutation,
    OrderQueryMixin,
    OrderSubscription,
    resolve_order_node,
)
from graphql_api.search.types import SearchQuery
from graphql_api.sync.types import SyncMutation, SyncQuery, resolve_sync_run_node
from graphql_api.tracking.types import TrackingMutation, install_fast_path

NodeResolver = Callable[[Info, int], Awaitable[Node | None]]
NODE_RESOLVERS: dict[str, NodeResolver] = {
    "Product": resolve_product_node,
    "Category": resolve_category_node,
    "User": resolve_user_node,
    "Review": resolve_review_node,
    "Cart": resolve_cart_node,
    "Order": resolve_order_node,
    "SyncRun": resolve_sync_run_node,
}


@strawberry.type
class Query(CatalogQuery, AccountsQuery, AccountManagementQuery, WishlistQuery, CartQuery,
            OrderQueryMixin, SearchQuery, SyncQuery, CacheStatsQuery, MetricsQuery, AdminStatsQuery):
    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, _ = from_global_id(id)
        resolver = NODE_RESOLVERS.get(type_name)
        pk = decode_pk(id, type_name)
        if resolver is None or pk is None:
            return None
        return await resolver(info, pk)


@strawberry.type
class Mutation(CatalogMutation, AccountsMutation, AccountManagementMutation, ReviewMutation,
               WishlistMutation, CartMutation, OrderMutation, SyncMutation, TrackingMutation):
    pass


@strawberry.type
class Subscription(OrderSubscription):
    @strawberry.subscription(description="A product's new state after each change (null once deleted).")
    async def product_changed(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[Product | None, None]:
        pk = decode_pk(id, "Product")
        if pk is None:
            return
        pubsub = info.context.resources.pubsub
        async with pubsub.subscribe(channel(PRODUCT_CHANGED)) as messages:
            async for message in messages:
                # A sync announces a page of products at once ("ids").
                if message.get("id") == pk or pk in message.get("ids", ()):
                    info.context.refresh_loaders()  # read the product as it is now
                    yield await resolve_product_node(info, pk)


class _NoHooks:
    """A stream result's hooks when no extension has any."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_: object) -> None:
        return None


_NO_HOOKS = _NoHooks()


class ExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's runner, minus its per-result work for hooks no extension has. Each result of
    a subscription asks every extension for `get_results` and opens an `on_stream_result`
    context with each: ~0.1 ms per delivery, a fifth of an event's fan-out to 2,000
    subscribers, for extensions of which none implements either."""

    def __init__(self, execution_context: ExecutionContext,
                 extensions: list[SchemaExtension] | None = None) -> None:
        super().__init__(execution_context, extensions)
        self._with_results = [e for e in self.extensions
                              if type(e).get_results is not SchemaExtension.get_results]
        self._stream_hooks = any(type(e).on_stream_result is not SchemaExtension.on_stream_result
                                 for e in self.extensions)

    def on_stream_result(self, result: Any) -> Any:
        return super().on_stream_result(result) if self._stream_hooks else _NO_HOOKS

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self._with_results:
            data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data


class Executor(SharedEventExecutor, FastExecutor):
    """Shared subscription events (core/streams.py) over the fast path for plain fields
    (core/fast_execution.py)."""


class DiffingExecutor(SharedEventExecutor, DiffExecutor):
    """Executor, comparing each execution with graphql-core's reference (GRAPHQL_EXEC_DIFF)."""


# graphql-core's execution of every field, with the shared subscription events: the reference
# the fast path is compared with (tests, benchmarks).
ReferenceExecutor = SharedEventExecutor


class NameConverter(StrawberryNameConverter):
    """Strawberry's, with each name converted once: it converts the argument names of every
    resolver call anew (to_camel_case, ~2% of a product detail request)."""

    def __init__(self) -> None:
        super().__init__()
        self._converted: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._converted.get(name)
        if converted is None:
            converted = self._converted[name] = super().apply_naming_config(name)
        return converted


class Schema(strawberry.Schema):
    max_tokens = 2000  # set from settings in build_schema
    hide_suggestions = True  # likewise: no "Did you mean" without introspection
    # Operations executed before, run past Strawberry's per-operation steps (set by build_schema).
    prepared: PreparedOperations | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Strawberry's executor, except that an order event is executed once per distinct
        # operation for all its subscribers, not once per subscriber (core/streams.py), and
        # that plain fields are read and completed in place (core/fast_execution.py).
        kwargs.setdefault("execution_context_class", Executor)
        kwargs.setdefault("config", StrawberryConfig(name_converter=NameConverter()))
        super().__init__(*args, **kwargs)

    def create_extensions_runner(self, execution_context: ExecutionContext,
                                 extensions: list[SchemaExtension]) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context, extensions)

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[StrawberryOperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> ExecutionResult:
        operations, prepared = self.prepared, None
        if operations is not None and root_value is None and operation_extensions is None:
            prepared = operations.get(query, operation_name)
        if operations is None or prepared is None:
            return await super().execute(query, variable_values, context_value, root_value,
                                         operation_name, allowed_operation_types,
                                         operation_extensions)
        if allowed_operation_types is not None and (
                prepared.operation_type not in allowed_operation_types):
            raise InvalidOperationTypeError(prepared.operation_type)
        return await operations.execute(self._schema, prepared, self.execution_context_class,
                                        variable_values, context_value)

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Silent: ErrorPolicy logs the unexpected errors; expected ones are not log noise."""

    async def stream(self, query: str | None, *args: Any, **kwargs: Any) -> Any:
        """Websocket operations; a subscription opened with a token ends when the token does."""
        context = kwargs.get("context_value")
        source = _errors_as_results(await super().stream(query, *args, **kwargs),
                                    self.hide_suggestions, getattr(context, "request_id", None))
        if getattr(context, "token", None) is None or not _is_subscription(
            query, kwargs.get("operation_name"), self.max_tokens
        ):
            return source
        try:
            deadline = context.claims.expires_at  # type: ignore[union-attr]
        except Unauthenticated:
            deadline = utcnow()  # expired (or no longer valid) before it started
        return until(source, deadline,
                     lambda: Unauthenticated("The access token has expired: reconnect with a new one."))


async def _errors_as_results(source: AsyncGenerator[Any, None], hide_suggestions: bool,
                             request_id: str | None) -> AsyncGenerator[Any, None]:
    """Each result of a websocket operation with its errors policed, as ErrorPolicy does once
    for an HTTP request: its `on_operation` spans a whole subscription, so it never sees the
    results of the events, and an unexpected error in one would reach the client unmasked.

    A parse-stage error (a syntax error, too many tokens) becomes the operation's error result:
    on the execute path Strawberry turns these into results; on the stream path they escape
    from its prepare step (the ParserCache and token-limit hooks raise outside its `try`), and
    the websocket handler would end the operation with a bare `complete` and a traceback.
    ErrorPolicy has given the error its code by then.
    """
    try:
        async for result in source:
            if result.errors:
                # The list is this subscriber's own, even for a shared execution (streams.py).
                result.errors[:] = [policed(e, hide_suggestions=hide_suggestions,
                                            request_id=request_id) for e in result.errors]
            yield result
    except GraphQLError as error:
        yield PreExecutionError(data=None, errors=[error])


def _is_subscription(query: str | None, operation_name: str | None, max_tokens: int) -> bool:
    try:
        document = parse(query or "", no_location=True, max_tokens=max_tokens)
        operation = get_operation_ast(document, operation_name)
    except GraphQLError:
        return False  # the stream itself reports the syntax error
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]
                                                 | type[SchemaExtension]]:
    """The hardening extensions every operation runs through."""
    # The limits' rule classes are made once: the validation cache is keyed by the rules, so
    # fresh classes per request would miss it every time (and fill it with junk).
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    validated = ValidationResults(maxsize=512)
    # Factories, so each request gets fresh extension instances; the caches outlive them (the
    # parser's at module level).
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: ErrorPolicy(hide_suggestions=not settings.introspection_enabled),
        OperationScope,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(limit_rules),
        lambda: DocumentValidationCache(validated),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    return extensions


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions = schema_extensions(settings)
    prepared = PreparedOperations.for_extensions(extensions, maxsize=512)
    if prepared is not None:
        extensions.append(prepared.extension)
    schema = Schema(
        query=Query, mutation=Mutation, subscription=Subscription,
        extensions=extensions,
        execution_context_class=DiffingExecutor if settings.graphql_exec_diff else Executor,
    )
    schema.prepared = prepared
    install_fast_path(schema._schema)
    schema.max_tokens = settings.max_tokens
    schema.hide_suggestions = not settings.introspection_enabled
    return schema
