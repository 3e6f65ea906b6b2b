// Package notebooks holds Calore's Jupyter notebooks for analysts (see
// README.md here): they read only the Power BI `bi` database, as the read-only
// `powerbi` user. This package has no Go code of its own; its tests execute
// every notebook headless against a small synthetic university.
package notebooks
