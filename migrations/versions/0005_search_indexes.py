"""search indexes kept by the database: FTS5 on SQLite, tsvector + pg_trgm on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00

The database adapter of the search port (graphql_api/search/database.py) reads these. Every
object here is kept in step by triggers, so a product is searchable as it now is the moment its
write commits, from whichever process wrote it. None of it is in the SQLModel metadata:
graphql_api.search.database.include_name keeps autogenerate from reporting it.

SQLite: `product_fts` (FTS5, one column per weighted field, rows only for live products) and
`product_fts_vocab` (its vocabulary, for typo tolerance). The unicode61 tokenizer folds case,
accents and punctuation as text.fold does, except for the letters fold spells out (ß, æ, ø, œ,
ł, đ, þ, ligatures), which the triggers replace first.
Caution: SQLite drops a table's triggers with it, so a later batch_alter_table of `product` or
`category` (which copies the table) must recreate the triggers below.

PostgreSQL: `product_search`, one row per live product: `document` (a tsvector weighted A name,
B brand and category, C tags, D description) and `name_document` (the name alone, for
suggestions), both over text folded by `search_fold` (unaccent + lower + punctuation to spaces,
the same as text.fold for the scripts a shop sells in), with copies of the filter and sort
columns, under GIN; `search_word`, the vocabulary with live document counts, kept by
statement-level triggers from the changed documents, with a trigram index for typo candidates.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Letters text.fold spells out that unicode61's remove_diacritics leaves alone.
_SPELLED = (
    ("ß", "ss"), ("ẞ", "ss"), ("æ", "ae"), ("Æ", "ae"), ("ø", "o"), ("Ø", "o"), ("œ", "oe"),
    ("Œ", "oe"), ("ł", "l"), ("Ł", "l"), ("đ", "d"), ("Đ", "d"), ("þ", "th"), ("Þ", "th"),
    ("ﬀ", "ff"), ("ﬁ", "fi"), ("ﬂ", "fl"), ("ﬃ", "ffi"), ("ﬄ", "ffl"), ("ﬅ", "st"), ("ﬆ", "st"),
)


def _spelled(expr: str) -> str:
    for letter, spelling in _SPELLED:
        expr = f"replace({expr}, '{letter}', '{spelling}')"
    return expr


def _fts_values(p: str) -> str:
    """The FTS5 columns of product row `p` (new or a table alias)."""
    category = f"(SELECT c.name FROM category c WHERE c.id = {p}.category_id)"
    tags = f"(SELECT group_concat(t.value, ' ') FROM json_each({p}.tags) t)"
    return ", ".join(_spelled(f"coalesce({e}, '')") for e in (
        f"{p}.name", f"{p}.brand", category, tags, f"{p}.description"))


_FTS_COLUMNS = "rowid, name, brand, category, tags, description"

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE product_fts USING fts5(name, brand, category, tags, description, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    "CREATE VIRTUAL TABLE product_fts_vocab USING fts5vocab(product_fts, 'row')",
    f"""CREATE TRIGGER product_fts_insert AFTER INSERT ON product WHEN new.deleted_at IS NULL
    BEGIN
        INSERT INTO product_fts({_FTS_COLUMNS}) VALUES (new.id, {_fts_values("new")});
    END""",
    # Only the indexed columns: stock and rating change on every order and review.
    f"""CREATE TRIGGER product_fts_update
    AFTER UPDATE OF name, brand, category_id, tags, description, deleted_at ON product
    BEGIN
        DELETE FROM product_fts WHERE rowid = old.id;
        INSERT INTO product_fts({_FTS_COLUMNS})
            SELECT new.id, {_fts_values("new")} WHERE new.deleted_at IS NULL;
    END""",
    """CREATE TRIGGER product_fts_delete AFTER DELETE ON product
    BEGIN
        DELETE FROM product_fts WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER category_fts_rename AFTER UPDATE OF name ON category
    BEGIN
        UPDATE product_fts SET category = {_spelled("new.name")} WHERE rowid IN
            (SELECT id FROM product WHERE category_id = new.id AND deleted_at IS NULL);
    END""",
    f"""INSERT INTO product_fts({_FTS_COLUMNS})
        SELECT p.id, {_fts_values("p")} FROM product p WHERE p.deleted_at IS NULL""",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS category_fts_rename",
    "DROP TRIGGER IF EXISTS product_fts_delete",
    "DROP TRIGGER IF EXISTS product_fts_update",
    "DROP TRIGGER IF EXISTS product_fts_insert",
    "DROP TABLE IF EXISTS product_fts_vocab",
    "DROP TABLE IF EXISTS product_fts",
]


# (word, +-1 document, +-1 name) rows of a statement's inserted or deleted search rows.
_INSERTED = """
                    SELECT unnest(tsvector_to_array(document)), 1, 0 FROM new_rows
                    UNION ALL SELECT unnest(tsvector_to_array(name_document)), 0, 1 FROM new_rows"""
_DELETED = """
                    SELECT unnest(tsvector_to_array(document)), -1, 0 FROM old_rows
                    UNION ALL SELECT unnest(tsvector_to_array(name_document)), 0, -1 FROM old_rows"""


# Over old_rows o and new_rows n: the searched text changed, or the product came back.
_RETEXT = """(o.deleted_at IS NOT NULL
                    OR (o.name, o.brand, o.category_id, o.tags, o.description)
                       IS DISTINCT FROM (n.name, n.brand, n.category_id, n.tags, n.description))"""
_RECOPY = """(o.price, o.stock, o.rating, o.created_at)
                       IS DISTINCT FROM (n.price, n.stock, n.rating, n.created_at)"""

_SEARCH_COLUMNS = "id, document, name_document, category_id, brand, price, stock, rating, created_at, tags"


def _search_values(p: str) -> str:
    return (f"{p}.id, search_document({p}), search_name_document({p}.name), {p}.category_id, "
            f"{p}.brand, {p}.price, {p}.stock, {p}.rating, {p}.created_at, {p}.tags")


def _postgres_up(unaccent_schema: str) -> list[str]:
    unaccent = f'"{unaccent_schema}".unaccent'
    return [
        # IMMUTABLE although unaccent is only STABLE (its rules file could change): the usual
        # wrapper, with the dictionary named so no search_path is needed.
        f"""CREATE FUNCTION search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT btrim(regexp_replace(lower({unaccent}('{unaccent}'::regdictionary,
                coalesce(value, ''))), '[^[:alnum:]]+', ' ', 'g'))
        $$""",
        """CREATE FUNCTION search_name_document(name text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT to_tsvector('simple', search_fold(name))
        $$""",
        # plpgsql, not sql: a SQL function that cannot be inlined is planned again at every call.
        """CREATE FUNCTION search_document(p product) RETURNS tsvector
        LANGUAGE plpgsql STABLE AS $$
        DECLARE
            category_name text;
            tag_text text;
        BEGIN
            SELECT c.name INTO category_name FROM category c WHERE c.id = p.category_id;
            SELECT string_agg(t, ' ') INTO tag_text FROM jsonb_array_elements_text(p.tags) t;
            RETURN setweight(search_name_document(p.name), 'A')
                || setweight(to_tsvector('simple', search_fold(
                    coalesce(p.brand, '') || ' ' || coalesce(category_name, ''))), 'B')
                || setweight(to_tsvector('simple', search_fold(tag_text)), 'C')
                || setweight(to_tsvector('simple', search_fold(p.description)), 'D');
        END $$""",
        # Live products only, and only what a search reads: the documents and the filter and sort
        # columns. Half the width of a product row, so a common word's thousands of matches are
        # read from half as many pages; product rows themselves stay as narrow as before.
        """CREATE TABLE product_search (
            id integer PRIMARY KEY REFERENCES product (id) ON DELETE CASCADE,
            document tsvector NOT NULL,
            name_document tsvector NOT NULL,
            category_id integer,
            brand varchar(120),
            price numeric(12, 2) NOT NULL,
            stock integer NOT NULL,
            rating numeric(3, 2) NOT NULL,
            created_at timestamptz NOT NULL,
            tags jsonb NOT NULL
        )""",
        # Statement-level, like the word counts below: a multi-row INSERT or UPDATE of products
        # is one statement on product_search, not one per row.
        f"""CREATE FUNCTION search_products_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO product_search ({_SEARCH_COLUMNS})
                SELECT {_search_values("p")} FROM new_rows p WHERE p.deleted_at IS NULL;
            RETURN NULL;
        END $$""",
        # Documents are replaced (deleted and inserted), never updated in place, so the word
        # counts need triggers on INSERT and DELETE only, and an order or a review, which only
        # changes copied columns, costs no word counting at all.
        f"""CREATE FUNCTION search_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                       WHERE n.deleted_at IS NOT NULL OR {_RETEXT}) THEN
                DELETE FROM product_search s USING new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE s.id = n.id AND (n.deleted_at IS NOT NULL OR {_RETEXT});
                INSERT INTO product_search ({_SEARCH_COLUMNS})
                    SELECT {_search_values("n")} FROM new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE n.deleted_at IS NULL AND {_RETEXT};
            END IF;
            IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                       WHERE n.deleted_at IS NULL AND NOT {_RETEXT} AND {_RECOPY}) THEN
                UPDATE product_search s
                    SET price = n.price, stock = n.stock, rating = n.rating,
                        created_at = n.created_at
                    FROM new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE s.id = n.id AND n.deleted_at IS NULL AND NOT {_RETEXT} AND {_RECOPY};
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER product_search_inserted AFTER INSERT ON product
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION search_products_inserted()""",
        """CREATE TRIGGER product_search_updated AFTER UPDATE ON product
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION search_products_updated()""",
        f"""CREATE FUNCTION search_category_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM product_search WHERE category_id = NEW.id;
            INSERT INTO product_search ({_SEARCH_COLUMNS})
                SELECT {_search_values("p")} FROM product p
                WHERE p.category_id = NEW.id AND p.deleted_at IS NULL;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER category_search_renamed AFTER UPDATE OF name ON category
        FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION search_category_renamed()""",
        """CREATE TABLE search_word (
            word text COLLATE "C" PRIMARY KEY,
            ndoc integer NOT NULL,
            nname integer NOT NULL
        ) WITH (fillfactor = 50)""",
        "CREATE INDEX ix_search_word_trgm ON search_word USING gin (word gin_trgm_ops)",
        # Counts move at commit, once per transaction: statements only append their words'
        # (+-1) rows to search_word_delta and mark the transaction pending; the deferred
        # trigger on that mark adds the transaction's deltas up and upserts each word once. Many
        # single-row statements in one transaction (an executemany) would otherwise update the
        # same hot rows thousands of times, each update longer to apply than the last. Words
        # are upserted in order, so concurrent commits lock them in one order; nothing indexes
        # the counts and pages keep room (fillfactor), so updates are HOT. A word whose count
        # falls to zero stays, ignored by readers.
        """CREATE TABLE search_word_delta (word text COLLATE "C", d integer, dn integer)""",
        "CREATE TABLE search_word_pending (xid bigint PRIMARY KEY)",
        f"""CREATE FUNCTION search_count_words() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO search_word_delta {_INSERTED};
            ELSE
                INSERT INTO search_word_delta {_DELETED};
            END IF;
            INSERT INTO search_word_pending VALUES (txid_current()) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$""",
        """CREATE FUNCTION search_merge_words() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- Other transactions' deltas are invisible until they commit, and each deletes
            -- its own before it does: this takes exactly this transaction's.
            WITH moved AS (DELETE FROM search_word_delta RETURNING word, d, dn)
            INSERT INTO search_word AS w (word, ndoc, nname)
                SELECT word, sum(d), sum(dn) FROM moved GROUP BY word
                HAVING sum(d) <> 0 OR sum(dn) <> 0 ORDER BY word
                ON CONFLICT (word) DO UPDATE
                    SET ndoc = w.ndoc + excluded.ndoc, nname = w.nname + excluded.nname;
            DELETE FROM search_word_pending WHERE xid = NEW.xid;
            RETURN NULL;
        END $$""",
        """CREATE CONSTRAINT TRIGGER search_word_merge AFTER INSERT ON search_word_pending
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION search_merge_words()""",
        """CREATE TRIGGER product_search_words_insert AFTER INSERT ON product_search
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION search_count_words()""",
        """CREATE TRIGGER product_search_words_delete AFTER DELETE ON product_search
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION search_count_words()""",
        # Typo candidates of one word: a trigram search at the lowest similarity a term within
        # `max_edits` can have (computed by the caller, so no candidate is missed), then a
        # Levenshtein bound (twice the edits: a transposition is two here); the caller checks the
        # exact OSA distance. The SET clause restores the threshold when the function returns.
        """CREATE FUNCTION search_similar_words(query text, max_edits integer, min_similarity real)
        RETURNS TABLE (word text, ndoc integer, nname integer)
        LANGUAGE plpgsql VOLATILE SET pg_trgm.similarity_threshold = 0.3 AS $$
        BEGIN
            IF max_edits <= 0 THEN
                RETURN QUERY SELECT w.word::text, w.ndoc, w.nname FROM search_word w
                    WHERE w.word = query AND w.ndoc > 0;
            ELSIF min_similarity <= 0 THEN
                RETURN QUERY SELECT w.word::text, w.ndoc, w.nname FROM search_word w
                    WHERE w.ndoc > 0 AND length(w.word) BETWEEN length(query) - max_edits
                                                           AND length(query) + max_edits
                      AND levenshtein_less_equal(w.word, query, 2 * max_edits) <= 2 * max_edits;
            ELSE
                PERFORM set_config('pg_trgm.similarity_threshold', min_similarity::text, true);
                RETURN QUERY SELECT w.word::text, w.ndoc, w.nname FROM search_word w
                    WHERE w.word % query AND w.ndoc > 0
                      AND length(w.word) BETWEEN length(query) - max_edits
                                             AND length(query) + max_edits
                      AND levenshtein_less_equal(w.word, query, 2 * max_edits) <= 2 * max_edits;
            END IF;
        END $$""",
        f"""INSERT INTO product_search ({_SEARCH_COLUMNS})
            SELECT {_search_values("p")} FROM product p WHERE p.deleted_at IS NULL""",
        "CREATE INDEX ix_product_search_document ON product_search USING gin (document)",
        "CREATE INDEX ix_product_search_name ON product_search USING gin (name_document)",
        # Suggestions for a common prefix walk this, best rated first, and stop early.
        "CREATE INDEX ix_product_search_rating ON product_search (rating, id)",
        # Suggestions list the live brands and categories by seeks in these.
        "CREATE INDEX ix_product_search_brand ON product_search (brand)",
        "CREATE INDEX ix_product_search_category ON product_search (category_id)",
        # Browsing (an empty query) with facets reads every live product: this index holds all
        # the facet and filter columns, so that is an index-only scan, not a heap scan.
        """CREATE INDEX ix_product_search_facets ON product (category_id, brand, price)
        INCLUDE (stock, rating) WHERE deleted_at IS NULL""",
    ]


_POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS category_search_renamed ON category",
    "DROP TRIGGER IF EXISTS product_search_updated ON product",
    "DROP TRIGGER IF EXISTS product_search_inserted ON product",
    "DROP TABLE IF EXISTS product_search",
    "DROP TABLE IF EXISTS search_word",
    "DROP TABLE IF EXISTS search_word_pending",
    "DROP TABLE IF EXISTS search_word_delta",
    "DROP INDEX IF EXISTS ix_product_search_facets",
    "DROP FUNCTION IF EXISTS search_similar_words(text, integer, real)",
    "DROP FUNCTION IF EXISTS search_merge_words()",
    "DROP FUNCTION IF EXISTS search_count_words()",
    "DROP FUNCTION IF EXISTS search_category_renamed()",
    "DROP FUNCTION IF EXISTS search_products_updated()",
    "DROP FUNCTION IF EXISTS search_products_inserted()",
    "DROP FUNCTION IF EXISTS search_document(product)",
    "DROP FUNCTION IF EXISTS search_name_document(text)",
    "DROP FUNCTION IF EXISTS search_fold(text)",
    "DROP EXTENSION IF EXISTS fuzzystrmatch",
    "DROP EXTENSION IF EXISTS pg_trgm",
    "DROP EXTENSION IF EXISTS unaccent",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        # All three are trusted extensions: the database owner may create them.
        for extension in ("unaccent", "pg_trgm", "fuzzystrmatch"):
            op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        op.execute("SELECT show_limit()")  # loads pg_trgm, so its settings are known below
        schema = bind.exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
        ).scalar_one()
        for statement in _postgres_up(schema.strip('"')):
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        for statement in _POSTGRES_DOWN:
            op.execute(statement)
