// Package kpiq computes the KPIs and dashboard series from the warehouse
// (ClickHouse): funnels, campaign performance, event attendance, heat,
// fundraising against targets, companies and contracts, geography, donor
// prospects and company clusters. Fixed queries are embedded .sql files with
// bind parameters only; the prospect list, whose filters vary, is built by a
// small query struct (prospectQuery.toSQL). Statements load through
// warehouse.Queries, the one embedded-query loader. Package dashboards renders what
// this package returns; it holds no SQL itself.
//
// Every query runs on ClickHouse 18.16 and current ClickHouse
// (docs/warehouse.md): versioned records are read with argMax over version,
// tracking hits are counted by event id, Dates are bound as 'YYYY-MM-DD'
// strings through toDate(?), and scores are read at one as_of day with
// argMax over computed_at.
package kpiq
