"""Connection to Calore's Power BI database for the notebooks.

Every notebook reads the reporting views of the `bi` database (docs/powerbi.md)
and nothing else, over ClickHouse's native protocol with clickhouse-driver,
which speaks to the Debian ClickHouse 18.16 and to current ClickHouse alike.

Settings, from the environment (`eval "$(scripts/stack env)"` sets the first
two for the local stack):

  CALORE_CLICKHOUSE_ADDR         host:port of the native protocol (first of a list)
  CALORE_POWERBI_PASSWORD        the read-only `powerbi` user's password
  CALORE_CLICKHOUSE_BI_DATABASE  the bi database (default `bi`)
  CALORE_BI_USER, CALORE_BI_PASSWORD
                                 another user instead of `powerbi` (the tests use
                                 the writer on a bi database of their own; every
                                 query runs with readonly = 1 regardless)
"""

import decimal
import os

import pandas as pd
from clickhouse_driver import Client

DEFAULT_ADDR = "127.0.0.1:19000"


def settings():
    """Where and as whom the notebooks connect (the password left out)."""
    addr = os.environ.get("CALORE_CLICKHOUSE_ADDR", DEFAULT_ADDR).split(",")[0].strip()
    host, _, port = addr.rpartition(":")
    return {
        "host": host.strip("[]") or "127.0.0.1",
        "port": int(port or 9000),
        "user": os.environ.get("CALORE_BI_USER", "powerbi"),
        "database": os.environ.get("CALORE_CLICKHOUSE_BI_DATABASE", "bi"),
    }


_client = None


def client():
    global _client
    if _client is None:
        s = settings()
        password = os.environ.get("CALORE_BI_PASSWORD")
        if password is None:
            password = os.environ.get("CALORE_POWERBI_PASSWORD")
        if password is None:
            raise RuntimeError(
                "CALORE_POWERBI_PASSWORD is unset: run `eval \"$(scripts/stack env)\"` first"
            )
        _client = Client(
            host=s["host"],
            port=s["port"],
            user=s["user"],
            password=password,
            database=s["database"],
            # the powerbi user is read-only already; this makes any other user so
            settings={"readonly": 1},
        )
    return _client


def query(sql, params=None):
    """Run one SELECT on the bi database and return a DataFrame.

    Decimals (money) become floats; NULLs stay missing values.
    """
    rows, columns = client().execute(sql, params or {}, with_column_types=True)
    df = pd.DataFrame(rows, columns=[name for name, _ in columns])
    for name, typ in columns:
        if "Decimal" in typ:
            df[name] = df[name].map(lambda v: float(v) if isinstance(v, decimal.Decimal) else v).astype("float64")
        elif typ.startswith("Nullable(") and ("Int" in typ or "Float" in typ):
            df[name] = pd.to_numeric(df[name], errors="coerce")
    return df


def describe():
    """One line saying what the notebook is reading."""
    s = settings()
    return f"reading database {s['database']} on {s['host']}:{s['port']} as {s['user']}"
