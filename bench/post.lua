-- wrk script: POST the products query as a GraphQL-over-HTTP JSON request.
-- Used by bench/products_query.py (wrk -t1 -cN -dDs --latency -s bench/post.lua URL).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ products(first: 20) { edges { node { id name price { amount } category { name } } } } }"}'
