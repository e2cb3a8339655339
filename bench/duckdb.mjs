// DuckDB peer for make bench: the benchmark's LinearRegression as a SQL expression.
//
//   node bench/duckdb.mjs csv|parquet LR.json IN OUT
//
// @duckdb/node-api is installed into bench/node_modules by bench/run.sh (npm).
import { readFileSync } from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

const [format, lrPath, input, output] = process.argv.slice(2);
const lr = JSON.parse(readFileSync(lrPath, "utf8"));
const num = (v) => v.toPrecision(17);
const expr = [num(lr.intercept), ...lr.names.map((n, i) => `${num(lr.coef[i])} * "${n}"`)].join(" + ");
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const src = format === "csv" ? `read_csv(${q(input)}, header = true)` : `read_parquet(${q(input)})`;
const to = format === "csv" ? "(FORMAT csv, HEADER true)" : "(FORMAT parquet, COMPRESSION snappy)";

const db = await DuckDBInstance.create(":memory:", { threads: "2" });
const con = await db.connect();
await con.run(`COPY (SELECT *, ${expr} AS prediction FROM ${src}) TO ${q(output)} ${to}`);
