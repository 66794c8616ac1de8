"""The one SQLModel metadata, with every domain's tables imported so migrations see them all."""

from sqlmodel import SQLModel

from graphql_api.accounts import models as _accounts  # noqa: F401
from graphql_api.carts import models as _carts  # noqa: F401
from graphql_api.catalog import models as _catalog  # noqa: F401
from graphql_api.metrics import models as _metrics  # noqa: F401
from graphql_api.orders import models as _orders  # noqa: F401
from graphql_api.search import outbox as _search  # noqa: F401
from graphql_api.sync import models as _sync  # noqa: F401
from graphql_api.tracking import models as _tracking  # noqa: F401

metadata = SQLModel.metadata
