package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/qqbot"
	"github.com/qun-chat/qun/internal/store/postgres"
	"github.com/qun-chat/qun/internal/wildfire"
)

// Defaults of qun serve's own settings; every other default is the
// DefaultXxx constant of the package that uses the setting.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultAdminAddr = "127.0.0.1:18080"
	DefaultData      = "./qun-data"
	DefaultLogLevel  = "info"
	DefaultLogFormat = "text"
)

// Config is everything qun serve is told, from flags and QUN_* environment
// variables (a flag wins over its variable). Secrets may also come from a
// file named by the variable with _FILE appended.
type Config struct {
	Addr        string
	AdminAddr   string
	Data        string
	AdminSecret string
	DB          string
	DBMaxConns  int
	PublicURL   string
	TLSCert     string
	TLSKey      string
	LogLevel    string
	LogFormat   string

	// The Robot and Admin APIs (package wildfire).
	RobotRate  int
	SignWindow time.Duration

	// The group rules (package group).
	MaxGroupMembers   int
	MaxMembersPerCall int
	ProactiveQuota    int
	ProactivePeriod   time.Duration
	PassiveWindow     time.Duration
	PassiveReplies    int

	// The Bot Open Platform (package qqbot).
	EventRetention    time.Duration
	SessionRetention  time.Duration
	BotRESTRate       int
	IdentifyRate      int
	TokenFailRate     int
	TokenTTL          time.Duration
	MaxGatewayConns   int
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	IdentifyTimeout   time.Duration
	MaxShards         int
	MaxFrame          int
	MaxRESTBody       int
	WriteTimeout      time.Duration
	PruneInterval     time.Duration

	// Outbound delivery: webhooks and callbacks (package delivery).
	CallbackDeny     []netip.Prefix
	DeliveryLease    time.Duration
	DeliveryTimeout  time.Duration
	DeliveryRetryMin time.Duration
	DeliveryRetryMax time.Duration
	// The operator's group callbacks (Wildfire's group_*_update_callback).
	GroupInfoCallback   string
	GroupMemberCallback string
}

// option is one setting: its flag, its variable, its default as the flag
// takes it, and where it goes.
type option struct {
	name, env, def, usage string
	set                   func(string) error
}

// str, num, dur and cidrs make the options of string, integer, duration and
// address-range settings; the default is given as a value, so that it is the
// package's constant and never a copy of it.
func str(p *string, name, env, def, usage string) option {
	return option{name, env, def, usage, func(v string) error { *p = v; return nil }}
}

func num(p *int, name, env string, def int, usage string) option {
	return option{name, env, strconv.Itoa(def), usage, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*p = n
		return nil
	}}
}

func dur(p *time.Duration, name, env string, def time.Duration, usage string) option {
	return option{name, env, formatDuration(def), usage, func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 90s, 24h)", v)
		}
		*p = d
		return nil
	}}
}

func cidrs(p *[]netip.Prefix, name, env string, def []netip.Prefix, usage string) option {
	ds := make([]string, len(def))
	for i, d := range def {
		ds[i] = d.String()
	}
	return option{name, env, strings.Join(ds, ","), usage, func(v string) error {
		*p = []netip.Prefix{}
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			pre, err := netip.ParsePrefix(f)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR (e.g. 169.254.0.0/16)", f)
			}
			*p = append(*p, pre.Masked())
		}
		return nil
	}}
}

// formatDuration writes d as time.ParseDuration reads it, without the zero
// units time.Duration.String adds: 5m, 24h, 41.25s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// options lists every setting of qun serve, in the order the README lists
// them.
func (c *Config) options() []option {
	return []option{
		str(&c.Addr, "addr", "QUN_ADDR", DefaultAddr, "public listener: Robot API and Bot Open Platform"),
		str(&c.AdminAddr, "admin-addr", "QUN_ADMIN_ADDR", DefaultAdminAddr, "Admin API and web console listener (keep it private)"),
		str(&c.Data, "data", "QUN_DATA", DefaultData, "data directory: the SQLite database and the generated admin secret"),
		str(&c.AdminSecret, "admin-secret", "QUN_ADMIN_SECRET", "", "Admin API secret; empty: generated on first start and kept in the data directory (on PostgreSQL: in the database)"),
		str(&c.DB, "db", "QUN_DB", "", "database: a postgres:// URL (several nodes may share it); empty: SQLite in the data directory"),
		num(&c.DBMaxConns, "db-max-conns", "QUN_DB_MAX_CONNS", 0, fmt.Sprintf("PostgreSQL connections per node, opened as needed; 0: the URL's pool_max_conns, else %d", postgres.DefaultMaxConns)),
		str(&c.PublicURL, "public-url", "QUN_PUBLIC_URL", "", "base URL bots reach the public listener at (for the gateway URL); empty: from each request"),

		num(&c.RobotRate, "robot-rate", "QUN_ROBOT_RATE", wildfire.DefaultRobotRate, "Robot API calls per robot per 10 s (0: no limit)"),
		dur(&c.SignWindow, "sign-window", "QUN_SIGN_WINDOW", wildfire.DefaultSignWindow, "how far a signed request's timestamp may be from now, either way"),

		num(&c.MaxGroupMembers, "max-group-members", "QUN_MAX_GROUP_MEMBERS", group.DefaultMaxGroupMembers, "member limit of groups without their own"),
		num(&c.MaxMembersPerCall, "max-members-per-call", "QUN_MAX_MEMBERS_PER_CALL", group.DefaultMaxMembersPerCall, "members one create, add, kick or manager call may name"),
		num(&c.ProactiveQuota, "proactive-quota", "QUN_PROACTIVE_QUOTA", group.DefaultProactiveQuota, "proactive messages per bot per group per proactive period (-1: no limit)"),
		dur(&c.ProactivePeriod, "proactive-period", "QUN_PROACTIVE_PERIOD", group.DefaultProactivePeriod, "the period the proactive quota counts over"),
		dur(&c.PassiveWindow, "passive-window", "QUN_PASSIVE_WINDOW", group.DefaultPassiveWindow, "how long a message or event may be replied to passively"),
		num(&c.PassiveReplies, "passive-replies", "QUN_PASSIVE_REPLIES", group.DefaultPassiveReplies, "passive replies one message or event allows"),

		dur(&c.EventRetention, "event-retention", "QUN_EVENT_RETENTION", qqbot.DefaultEventRetention, "how long bot events are kept for resume"),
		dur(&c.SessionRetention, "session-retention", "QUN_SESSION_RETENTION", qqbot.DefaultSessionRetention, "how long a gateway session may go unseen and still be resumed"),
		num(&c.BotRESTRate, "bot-rest-rate", "QUN_BOT_REST_RATE", qqbot.DefaultRESTRate, "Bot Open Platform REST requests per app per second (-1: no limit)"),
		num(&c.IdentifyRate, "identify-rate", "QUN_IDENTIFY_RATE", qqbot.DefaultIdentifyRate, "gateway identifies and resumes per bot per minute (-1: no limit)"),
		num(&c.TokenFailRate, "token-fail-rate", "QUN_TOKEN_FAIL_RATE", qqbot.DefaultTokenFailRate, "access token requests with a wrong secret answered per app per minute (-1: no limit)"),
		dur(&c.TokenTTL, "token-ttl", "QUN_TOKEN_TTL", qqbot.DefaultTokenTTL, fmt.Sprintf("access token lifetime; the last %s overlaps with the next token", formatDuration(qqbot.DefaultTokenOverlap))),
		num(&c.MaxGatewayConns, "max-gateway-conns", "QUN_MAX_GATEWAY_CONNS", qqbot.DefaultMaxGatewayConns, "gateway WebSocket connections per node (more get HTTP 503)"),
		dur(&c.HeartbeatInterval, "heartbeat-interval", "QUN_HEARTBEAT_INTERVAL", qqbot.DefaultHeartbeatInterval, "heartbeat interval the gateway's Hello announces"),
		dur(&c.HeartbeatTimeout, "heartbeat-timeout", "QUN_HEARTBEAT_TIMEOUT", qqbot.DefaultHeartbeatTimeout, "gateway connections silent this long are closed with 4009 (botpy beats every 30 s)"),
		dur(&c.IdentifyTimeout, "identify-timeout", "QUN_IDENTIFY_TIMEOUT", qqbot.DefaultIdentifyTimeout, "gateway connections that have not identified or resumed this long after Hello are closed with 4009"),
		num(&c.MaxShards, "max-shards", "QUN_MAX_SHARDS", qqbot.DefaultMaxShards, "largest shard count an identify may ask for (more close with 4011)"),
		num(&c.MaxFrame, "max-frame", "QUN_MAX_FRAME", qqbot.DefaultMaxFrame, "largest gateway frame a client may send, in bytes (larger close with 1009)"),
		num(&c.MaxRESTBody, "max-rest-body", "QUN_MAX_REST_BODY", qqbot.DefaultMaxBody, "largest Bot Open Platform REST request body, in bytes"),
		dur(&c.WriteTimeout, "write-timeout", "QUN_WRITE_TIMEOUT", qqbot.DefaultWriteTimeout, "how long one gateway frame write may take before the client is disconnected"),
		dur(&c.PruneInterval, "prune-interval", "QUN_PRUNE_INTERVAL", qqbot.DefaultPruneInterval, "how often expired events, sessions, tokens and nonces are pruned"),

		cidrs(&c.CallbackDeny, "callback-deny", "QUN_CALLBACK_DENY", delivery.DefaultDeny, "CIDRs no webhook or callback may reach, checked when set and on every dial (empty: none)"),
		dur(&c.DeliveryLease, "delivery-lease", "QUN_DELIVERY_LEASE", delivery.DefaultLeaseTTL, "how long a node's hold of a bot's deliveries lasts unrenewed; another node takes over after it"),
		dur(&c.DeliveryTimeout, "delivery-timeout", "QUN_DELIVERY_TIMEOUT", delivery.DefaultTimeout, "how long one webhook or callback POST may take, answer included"),
		dur(&c.DeliveryRetryMin, "delivery-retry-min", "QUN_DELIVERY_RETRY_MIN", delivery.DefaultRetryMin, "wait after a delivery's first failure; doubled per failure"),
		dur(&c.DeliveryRetryMax, "delivery-retry-max", "QUN_DELIVERY_RETRY_MAX", delivery.DefaultRetryMax, "longest wait between two attempts of a delivery"),
		str(&c.GroupInfoCallback, "group-info-callback", "QUN_GROUP_INFO_CALLBACK", "", "URL that gets a GroupUpdateEvent for every group change (Wildfire's group_info_update_callback); empty: none"),
		str(&c.GroupMemberCallback, "group-member-callback", "QUN_GROUP_MEMBER_CALLBACK", "", "URL that gets a GroupMemberUpdateEvent for every member change (Wildfire's group_member_update_callback); empty: none"),

		str(&c.TLSCert, "tls-cert", "QUN_TLS_CERT", "", "PEM certificate file: the public listener serves HTTPS/WSS (reloaded when it changes); empty: plain HTTP"),
		str(&c.TLSKey, "tls-key", "QUN_TLS_KEY", "", "PEM private key file of --tls-cert"),

		str(&c.LogLevel, "log-level", "QUN_LOG_LEVEL", DefaultLogLevel, "debug, info, warn or error"),
		str(&c.LogFormat, "log-format", "QUN_LOG_FORMAT", DefaultLogFormat, "text (key=value lines) or json (one JSON object a line)"),
	}
}

// FlagNames lists qun serve's flags, without dashes, in the order the
// README lists them.
func FlagNames() []string {
	var c Config
	var names []string
	for _, o := range c.options() {
		names = append(names, o.name)
	}
	return names
}

// serveUsage heads qun serve -h, before the flags.
const serveUsage = `Usage: qun serve [flags]

run qun: the public listener (Robot API, Bot Open Platform) and the admin listener
(Admin API, web console, /metrics)

Every flag has a QUN_* variable (a flag wins); any variable may instead name a file
holding the value, with _FILE appended (QUN_ADMIN_SECRET_FILE=/run/secrets/qun).

Flags (-flag and --flag are the same):
`

// ErrHelp is returned when -h asked for the flags, which were printed.
var ErrHelp = errors.New("help requested")

// ParseConfig reads flags from args and variables from getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("qun serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	opts := c.options()
	for _, o := range opts {
		def := o.def
		if v := getenv(o.env); v != "" {
			def = v
		} else if file := getenv(o.env + "_FILE"); file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return c, fmt.Errorf("%s_FILE: %w", o.env, err)
			}
			def = strings.TrimSpace(string(b))
		}
		if err := o.set(def); err != nil {
			return c, fmt.Errorf("%s: %w", o.env, err)
		}
		fs.Func(o.name, o.usage+" (env "+o.env+", default "+strconv.Quote(o.def)+")", o.set)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, ErrHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.Validate()
}

// Validate checks the configuration as a whole; the error names every
// setting that is wrong.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	// atLeast1OrUnlimited is the rule of the rates where -1 means no limit.
	atLeast1OrUnlimited := func(n int) bool { return n == -1 || n >= 1 }

	check(c.Addr != "" && c.AdminAddr != "", "addr and admin-addr must be set")
	check(c.Data != "", "data must be set")
	check(c.DB == "" || strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://"),
		"db %q: give a postgres:// URL, or leave it empty for SQLite", Redact(c.DB))
	check(c.DBMaxConns >= 0 && c.DBMaxConns <= 10_000,
		"db-max-conns must be 0 (the URL's pool_max_conns, else %d) to 10000", postgres.DefaultMaxConns)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		check(false, "log-level %q is not debug, info, warn or error", c.LogLevel)
	}
	check(c.LogFormat == "text" || c.LogFormat == "json", "log-format %q is not text or json", c.LogFormat)
	check((c.TLSCert == "") == (c.TLSKey == ""), "tls-cert and tls-key go together: give both, or neither for plain HTTP")

	check(c.RobotRate >= 0, "robot-rate must be 0 (no limit) or more")
	check(c.SignWindow > 0, "sign-window must be positive")

	check(c.MaxGroupMembers >= 1, "max-group-members must be at least 1")
	check(c.MaxMembersPerCall >= 1, "max-members-per-call must be at least 1")
	check(atLeast1OrUnlimited(c.ProactiveQuota), "proactive-quota must be -1 (no limit) or at least 1")
	check(c.ProactivePeriod >= time.Minute, "proactive-period must be at least 1m")
	check(c.PassiveWindow >= time.Second, "passive-window must be at least 1s")
	check(c.PassiveReplies >= 1, "passive-replies must be at least 1")

	check(c.EventRetention >= time.Minute, "event-retention must be at least 1m")
	check(atLeast1OrUnlimited(c.BotRESTRate), "bot-rest-rate must be -1 (no limit) or at least 1")
	check(atLeast1OrUnlimited(c.IdentifyRate), "identify-rate must be -1 (no limit) or at least 1")
	check(atLeast1OrUnlimited(c.TokenFailRate), "token-fail-rate must be -1 (no limit) or at least 1")
	check(c.TokenTTL > qqbot.DefaultTokenOverlap,
		"token-ttl must be more than %s, the overlap of a token with the next", formatDuration(qqbot.DefaultTokenOverlap))
	check(c.MaxGatewayConns >= 1, "max-gateway-conns must be at least 1")
	check(c.HeartbeatTimeout >= time.Minute, "heartbeat-timeout must be at least 1m: clients beat every 30 to 41 s")
	check(c.HeartbeatInterval >= time.Second && c.HeartbeatInterval < c.HeartbeatTimeout,
		"heartbeat-interval must be at least 1s and less than heartbeat-timeout (%s)", formatDuration(c.HeartbeatTimeout))
	check(c.IdentifyTimeout >= time.Second && c.IdentifyTimeout <= c.HeartbeatTimeout,
		"identify-timeout must be at least 1s and at most heartbeat-timeout (%s)", formatDuration(c.HeartbeatTimeout))
	check(c.SessionRetention >= c.HeartbeatTimeout,
		"session-retention must be at least heartbeat-timeout (%s): a live session is seen only at its heartbeats", formatDuration(c.HeartbeatTimeout))
	check(c.MaxShards >= 1, "max-shards must be at least 1")
	check(c.MaxFrame >= minFrame && c.MaxFrame <= maxFrame,
		"max-frame must be %d to %d bytes: an identify takes a few hundred, and a frame is read whole", minFrame, maxFrame)
	check(c.MaxRESTBody >= minRESTBody && c.MaxRESTBody <= maxRESTBody,
		"max-rest-body must be %d to %d bytes: a body is read whole", minRESTBody, maxRESTBody)
	check(c.WriteTimeout >= time.Second, "write-timeout must be at least 1s")
	check(c.PruneInterval >= time.Minute, "prune-interval must be at least 1m")

	check(c.DeliveryLease >= time.Second && c.DeliveryTimeout >= time.Millisecond && c.DeliveryRetryMin >= time.Millisecond && c.DeliveryRetryMax >= c.DeliveryRetryMin,
		"delivery-lease must be at least 1s, delivery-timeout and delivery-retry-min at least 1ms, delivery-retry-max at least delivery-retry-min")
	return errors.Join(errs...)
}

// Bounds of the size settings: a frame or a body is read into memory whole,
// so neither may be huge; neither may be too small for the requests clients
// send.
const (
	minFrame    = 1 << 10
	maxFrame    = 16 << 20
	minRESTBody = 1 << 10
	maxRESTBody = 64 << 20
)

// Redact hides a URL's password.
func Redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		if j := strings.Index(dsn, "://"); j >= 0 && j < i {
			return dsn[:j+3] + "…" + dsn[i:]
		}
	}
	return dsn
}
