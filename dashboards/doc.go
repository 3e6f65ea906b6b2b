// Package dashboards renders Calore's server-side go-echarts dashboards from
// data handed to it; it holds no SQL.
package dashboards
