// Package calore holds Calore's domain types and error kinds.
//
// Calore is an analytics-centric CRM for universities and public bodies:
// operational records live in PostgreSQL (package postgres), every change and
// tracking event streams through Kafka (package ingest) into the ClickHouse
// warehouse (package warehouse), where scoring jobs (packages models and
// scoring) compute engagement heat, donation potential, company clusters and
// funnels served by the API, the dashboards and Power BI.
//
// This package imports only the standard library.
package calore
