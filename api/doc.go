// Package api is Calore's REST API on go-chi, mounted by `calore serve`.
package api
