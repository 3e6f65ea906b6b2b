"""Apply the warehouse and bi migrations to current ClickHouse and query every bi view.

The stack runs the Debian ClickHouse 18.16; the bi SQL must also work on current
ClickHouse. chDB is current ClickHouse as a Python package (no server needed):

    python3 -m venv /tmp/chdb && /tmp/chdb/bin/pip install chdb==4.4.0
    /tmp/chdb/bin/python warehouse/bi/check_current_clickhouse.py

Exit 1 when a bi migration fails or a bi view cannot be queried. A failing
warehouse migration is reported but not counted (it is not this set's).
"""

import glob
import os
import sys

from chdb import session

HERE = os.path.dirname(os.path.abspath(__file__))
W, B = "wh", "bi"


def main():
    s = session.Session()
    q = lambda sql, fmt="TSV": s.query(sql, fmt).bytes().decode().strip()
    print("ClickHouse", q("SELECT version()"))
    q(f"CREATE DATABASE IF NOT EXISTS {W}")
    q(f"CREATE DATABASE IF NOT EXISTS {B}")
    q(f"USE {W}")  # warehouse migrations never name their database
    for f in sorted(glob.glob(os.path.join(HERE, "..", "migrations", "*.sql"))):
        sql = open(f).read()
        try:
            q(sql)
        except Exception as e:
            print("warehouse migration", os.path.basename(f), "failed (not counted):", str(e).splitlines()[0][:200])
    failures = 0
    for f in sorted(glob.glob(os.path.join(HERE, "*.sql"))):
        sql = open(f).read().replace("{{warehouse}}", W).replace("{{bi}}", B)
        try:
            q(sql)
        except Exception as e:
            failures += 1
            print("bi migration", os.path.basename(f), "FAILED:", str(e).splitlines()[0][:300])
    # a few rows through the warehouse tables, so the feeds run too
    q(f"""INSERT INTO {W}.dim_people (id, version, deleted, kind, status, first_name, last_name, graduation_year, payload, created_at)
          VALUES (1, 1, 0, 'alumnus', 'active', 'A', 'R', 2000, '{{"region":"Lombardia"}}', now()),
                 (1, 2, 0, 'alumnus', 'active', 'A', 'R', 2001, '{{"region":"Piemonte"}}', now()),
                 (2, 1, 0, 'other', 'active', 'B', 'B', 0, '{{}}', now())""")
    q(f"""INSERT INTO {W}.person_scores (model, model_version, as_of, person_id, score, level, label, expected_amount, suggested_ask, reasons, computed_at)
          VALUES ('heat', 'h', '2026-01-01', 1, 5, 3, 'warm', 0, 0, '{{}}', '2026-01-02 00:00:00'),
                 ('donation', 'd', '2026-01-01', 1, 0.4, 1, 'A', 200, 500, '[{{"text":"gave"}},{{"text":"mentor"}}]', '2026-01-02 00:00:00')""")
    q(f"""INSERT INTO {W}.dim_campaigns (id, version, deleted, name, status, sent_at, payload) VALUES (7, 1, 0, 'C', 'sent', now(), '{{}}')""")
    q(f"""INSERT INTO {W}.fact_sends (id, version, deleted, campaign_id, person_id, status, sent_at, payload)
          VALUES (70, 1, 0, 7, 1, 'delivered', now(), '{{}}'), (71, 1, 0, 7, 2, 'delivered', now(), '{{}}')""")
    q(f"""INSERT INTO {W}.tracking_events (event_id, event_time, kind, contact_id, campaign_id, send_id, is_machine)
          VALUES (generateUUIDv4(), now(), 'email.open', 1, 7, 70, 0), (generateUUIDv4(), now(), 'email.open', 2, 7, 71, 1)""")
    views = q(f"SELECT name FROM system.tables WHERE database = '{B}' AND engine = 'View' ORDER BY name").split()
    for v in views:
        try:
            print(f"{v}: {q(f'SELECT count() FROM {B}.{v}')} rows")
        except Exception as e:
            failures += 1
            print(v, "QUERY FAILED:", str(e).splitlines()[0][:300])
    checks = {
        f"SELECT graduation_year, region, heat_label, donor_tier, donor_reasons FROM {B}.people WHERE person_id = 1": "2001\tPiemonte\twarm\tA\tgave; mentor",
        f"SELECT recipients, opened_human, opened_raw FROM {B}.campaign_performance WHERE campaign_id = 7": "2\t1\t2",
    }
    for sql, want in checks.items():
        got = q(sql)
        if got != want:
            failures += 1
            print("WRONG:", sql, "got", repr(got), "want", repr(want))
    print(f"{len(views)} views, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
