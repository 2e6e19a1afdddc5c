package main

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
)

// Defaults of qun serve.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultAdminAddr = "127.0.0.1:18080"
	DefaultData      = "./qun-data"
	// defaultCallbackDeny: link-local (cloud metadata at 169.254.169.254
	// included) and the metadata addresses of clouds that use others.
	defaultCallbackDeny = "169.254.0.0/16,fe80::/10,100.100.100.200/32,fd00:ec2::254/128"
)

// Config is everything qun serve is told, from flags and QUN_* environment
// variables (a flag wins over its variable). Secrets may also come from a
// file named by the variable with _FILE appended.
type Config struct {
	Addr             string
	AdminAddr        string
	Data             string
	AdminSecret      string
	DB               string
	DBMaxConns       int
	PublicURL        string
	RobotRate        int
	SignWindow       time.Duration
	EventRetention   time.Duration
	MaxGroupMembers  int
	ProactiveQuota   int
	BotRESTRate      int
	IdentifyRate     int
	MaxGatewayConns  int
	HeartbeatTimeout time.Duration
	LogLevel         string
	LogFormat        string
	TLSCert, TLSKey  string
	// Outbound delivery (webhooks and callbacks).
	CallbackDeny     []netip.Prefix
	DeliveryLease    time.Duration
	DeliveryTimeout  time.Duration
	DeliveryRetryMin time.Duration
	DeliveryRetryMax time.Duration
	// The operator's group callbacks (Wildfire's group_*_update_callback).
	GroupInfoCallback   string
	GroupMemberCallback string
}

// option is one setting: its flag, its variable and where it goes.
type option struct {
	name, env, usage string
	set              func(string) error
	def              string
}

func (c *Config) options() []option {
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	num := func(p *int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			*p = n
			return nil
		}
	}
	dur := func(p *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration (e.g. 90s, 24h)", v)
			}
			*p = d
			return nil
		}
	}
	cidrs := func(p *[]netip.Prefix) func(string) error {
		return func(v string) error {
			*p = []netip.Prefix{}
			for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
				pre, err := netip.ParsePrefix(f)
				if err != nil {
					return fmt.Errorf("%q is not a CIDR (e.g. 169.254.0.0/16)", f)
				}
				*p = append(*p, pre.Masked())
			}
			return nil
		}
	}
	return []option{
		{"addr", "QUN_ADDR", "public listener: Robot API and Bot Open Platform", str(&c.Addr), DefaultAddr},
		{"admin-addr", "QUN_ADMIN_ADDR", "Admin API listener (keep it private)", str(&c.AdminAddr), DefaultAdminAddr},
		{"data", "QUN_DATA", "data directory: the SQLite database and the generated admin secret", str(&c.Data), DefaultData},
		{"admin-secret", "QUN_ADMIN_SECRET", "Admin API secret; empty: generated on first start and kept in the data directory", str(&c.AdminSecret), ""},
		{"db", "QUN_DB", "database: a postgres:// URL (several nodes may share it); empty: SQLite in the data directory", str(&c.DB), ""},
		{"db-max-conns", "QUN_DB_MAX_CONNS", "PostgreSQL connections per node, opened as needed; 0: the URL's pool_max_conns, else 16", num(&c.DBMaxConns), "0"},
		{"public-url", "QUN_PUBLIC_URL", "base URL bots reach the public listener at (for the gateway URL); empty: from each request", str(&c.PublicURL), ""},
		{"robot-rate", "QUN_ROBOT_RATE", "Robot API calls per robot per 10 s (0: no limit)", num(&c.RobotRate), "1000"},
		{"sign-window", "QUN_SIGN_WINDOW", "how far a signed request's timestamp may be from now, either way", dur(&c.SignWindow), "5m"},
		{"event-retention", "QUN_EVENT_RETENTION", "how long bot events are kept for resume", dur(&c.EventRetention), "24h"},
		{"max-group-members", "QUN_MAX_GROUP_MEMBERS", "member limit of groups without their own", num(&c.MaxGroupMembers), "3000"},
		{"proactive-quota", "QUN_PROACTIVE_QUOTA", "proactive messages per bot per group per 30 days (-1: no limit)", num(&c.ProactiveQuota), "4"},
		{"bot-rest-rate", "QUN_BOT_REST_RATE", "Bot Open Platform REST requests per app per second (-1: no limit)", num(&c.BotRESTRate), "200"},
		{"identify-rate", "QUN_IDENTIFY_RATE", "gateway identifies and resumes per bot per minute (-1: no limit)", num(&c.IdentifyRate), "30"},
		{"max-gateway-conns", "QUN_MAX_GATEWAY_CONNS", "gateway WebSocket connections per node (more get HTTP 503)", num(&c.MaxGatewayConns), "10000"},
		{"heartbeat-timeout", "QUN_HEARTBEAT_TIMEOUT", "gateway connections silent this long are closed with 4009 (botpy beats every 30 s)", dur(&c.HeartbeatTimeout), "90s"},
		{"log-level", "QUN_LOG_LEVEL", "debug, info, warn or error", str(&c.LogLevel), "info"},
		{"tls-cert", "QUN_TLS_CERT", "PEM certificate file: the public listener serves HTTPS/WSS (reloaded when it changes); empty: plain HTTP", str(&c.TLSCert), ""},
		{"tls-key", "QUN_TLS_KEY", "PEM private key file of --tls-cert", str(&c.TLSKey), ""},
		{"log-format", "QUN_LOG_FORMAT", "text (key=value lines) or json (one JSON object a line)", str(&c.LogFormat), "text"},
		{"callback-deny", "QUN_CALLBACK_DENY", "CIDRs no webhook or callback may reach, checked when set and on every dial (empty: none)", cidrs(&c.CallbackDeny), defaultCallbackDeny},
		{"delivery-lease", "QUN_DELIVERY_LEASE", "how long a node's hold of a bot's deliveries lasts unrenewed; another node takes over after it", dur(&c.DeliveryLease), "30s"},
		{"delivery-timeout", "QUN_DELIVERY_TIMEOUT", "how long one webhook or callback POST may take, answer included", dur(&c.DeliveryTimeout), "5s"},
		{"delivery-retry-min", "QUN_DELIVERY_RETRY_MIN", "wait after a delivery's first failure; doubled per failure", dur(&c.DeliveryRetryMin), "1s"},
		{"delivery-retry-max", "QUN_DELIVERY_RETRY_MAX", "longest wait between two attempts of a delivery", dur(&c.DeliveryRetryMax), "5m"},
		{"group-info-callback", "QUN_GROUP_INFO_CALLBACK", "URL that gets a GroupUpdateEvent for every group change (Wildfire's group_info_update_callback); empty: none", str(&c.GroupInfoCallback), ""},
		{"group-member-callback", "QUN_GROUP_MEMBER_CALLBACK", "URL that gets a GroupMemberUpdateEvent for every member change (Wildfire's group_member_update_callback); empty: none", str(&c.GroupMemberCallback), ""},
	}
}

// flagHelp is returned when -h asked for the flags, which were printed.
var flagHelp = errors.New("help requested")

// ParseConfig reads flags from args and variables from getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("qun serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
			return c, flagHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.Validate()
}

// Validate checks the configuration as a whole.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" || c.AdminAddr == "" {
		errs = append(errs, errors.New("addr and admin-addr must be set"))
	}
	if c.Data == "" {
		errs = append(errs, errors.New("data must be set"))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, fmt.Errorf("db %q: give a postgres:// URL, or leave it empty for SQLite", redact(c.DB)))
	}
	if c.DBMaxConns < 0 || c.DBMaxConns > 10_000 {
		errs = append(errs, errors.New("db-max-conns must be 0 (the URL's pool_max_conns, else 16) to 10000"))
	}
	if c.RobotRate < 0 {
		errs = append(errs, errors.New("robot-rate must be 0 or more"))
	}
	if c.SignWindow <= 0 {
		errs = append(errs, errors.New("sign-window must be positive"))
	}
	if c.EventRetention < time.Minute {
		errs = append(errs, errors.New("event-retention must be at least 1m"))
	}
	if c.MaxGroupMembers < 1 {
		errs = append(errs, errors.New("max-group-members must be at least 1"))
	}
	if c.ProactiveQuota < -1 || c.ProactiveQuota == 0 {
		errs = append(errs, errors.New("proactive-quota must be -1 (no limit) or at least 1"))
	}
	if c.BotRESTRate < -1 || c.BotRESTRate == 0 || c.IdentifyRate < -1 || c.IdentifyRate == 0 {
		errs = append(errs, errors.New("bot-rest-rate and identify-rate must be -1 (no limit) or at least 1"))
	}
	if c.MaxGatewayConns < 1 {
		errs = append(errs, errors.New("max-gateway-conns must be at least 1"))
	}
	if c.HeartbeatTimeout < time.Minute {
		errs = append(errs, errors.New("heartbeat-timeout must be at least 1m: clients beat every 30 to 41 s"))
	}
	if c.DeliveryLease < time.Second || c.DeliveryTimeout < time.Millisecond || c.DeliveryRetryMin < time.Millisecond || c.DeliveryRetryMax < c.DeliveryRetryMin {
		errs = append(errs, errors.New("delivery-lease must be at least 1s, delivery-timeout and delivery-retry-min at least 1ms, delivery-retry-max at least delivery-retry-min"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q is not debug, info, warn or error", c.LogLevel))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together: give both, or neither for plain HTTP"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q is not text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// redact hides a URL's password.
func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		if j := strings.Index(dsn, "://"); j >= 0 && j < i {
			return dsn[:j+3] + "…" + dsn[i:]
		}
	}
	return dsn
}
