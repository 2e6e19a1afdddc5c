package app

import "net/url"

// storeAttrs describes the store for the start line: its kind and where it
// is, never a password (a PostgreSQL URL is cut to its host and database).
func storeAttrs(cfg Config, dbPath string) []any {
	if cfg.DB == "" {
		return []any{"store", "sqlite", "db", dbPath}
	}
	where := "(unparsed URL)"
	if u, err := url.Parse(cfg.DB); err == nil {
		where = u.Host + u.Path
	}
	return []any{"store", "postgres", "db", where}
}
