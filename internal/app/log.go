package app

import (
	"io"
	"log/slog"
)

// newLogger returns the logger of cfg's level and format, writing to w:
// text (slog's key=value lines) or json (one JSON object a line, for log
// collectors). Validate has checked both.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
