package main

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/qqbot"
	"github.com/qun-chat/qun/internal/wildfire"
)

func noEnv(string) string { return "" }

// TestConfigDefaults ties qun serve's defaults to the DefaultXxx constants
// of the packages that use them: a flag's default is the constant, written
// so that the flag reads it back unchanged.
func TestConfigDefaults(t *testing.T) {
	got, err := ParseConfig(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr:      DefaultAddr,
		AdminAddr: DefaultAdminAddr,
		Data:      DefaultData,
		LogLevel:  DefaultLogLevel,
		LogFormat: DefaultLogFormat,

		RobotRate:  wildfire.DefaultRobotRate,
		SignWindow: wildfire.DefaultSignWindow,

		MaxGroupMembers:   group.DefaultMaxGroupMembers,
		MaxMembersPerCall: group.DefaultMaxMembersPerCall,
		ProactiveQuota:    group.DefaultProactiveQuota,
		ProactivePeriod:   group.DefaultProactivePeriod,
		PassiveWindow:     group.DefaultPassiveWindow,
		PassiveReplies:    group.DefaultPassiveReplies,

		EventRetention:    qqbot.DefaultEventRetention,
		SessionRetention:  qqbot.DefaultSessionRetention,
		BotRESTRate:       qqbot.DefaultRESTRate,
		IdentifyRate:      qqbot.DefaultIdentifyRate,
		TokenFailRate:     qqbot.DefaultTokenFailRate,
		TokenTTL:          qqbot.DefaultTokenTTL,
		MaxGatewayConns:   qqbot.DefaultMaxGatewayConns,
		HeartbeatInterval: qqbot.DefaultHeartbeatInterval,
		HeartbeatTimeout:  qqbot.DefaultHeartbeatTimeout,
		IdentifyTimeout:   qqbot.DefaultIdentifyTimeout,
		MaxShards:         qqbot.DefaultMaxShards,
		MaxFrame:          qqbot.DefaultMaxFrame,
		MaxRESTBody:       qqbot.DefaultMaxBody,
		WriteTimeout:      qqbot.DefaultWriteTimeout,
		PruneInterval:     qqbot.DefaultPruneInterval,

		CallbackDeny:     delivery.DefaultDeny,
		DeliveryLease:    delivery.DefaultLeaseTTL,
		DeliveryTimeout:  delivery.DefaultTimeout,
		DeliveryRetryMin: delivery.DefaultRetryMin,
		DeliveryRetryMax: delivery.DefaultRetryMax,
	}
	if d := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Prefix{})); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
}

// TestConfigReachesPackages sets every setting to something other than its
// default and checks that the packages run with it.
func TestConfigReachesPackages(t *testing.T) {
	data := t.TempDir()
	args := []string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data,
		"--max-group-members", "7", "--max-members-per-call", "3", "--proactive-quota", "9",
		"--proactive-period", "48h", "--passive-window", "2m", "--passive-replies", "2",
		"--event-retention", "3h", "--session-retention", "4h", "--bot-rest-rate", "11",
		"--identify-rate", "12", "--token-fail-rate", "13", "--token-ttl", "1h", "--max-gateway-conns", "14",
		"--heartbeat-interval", "20s", "--heartbeat-timeout", "2m", "--identify-timeout", "5s",
		"--max-shards", "4", "--max-frame", "4096", "--max-rest-body", "8192", "--write-timeout", "3s",
		"--prune-interval", "5m"}
	cfg, err := ParseConfig(args, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tm := startMain(t, cfg)

	gc := tm.Service.Config()
	gotGroup := group.Config{MaxGroupMembers: gc.MaxGroupMembers, MaxMembersPerCall: gc.MaxMembersPerCall,
		PassiveWindow: gc.PassiveWindow, PassiveReplies: gc.PassiveReplies, ProactiveQuota: gc.ProactiveQuota,
		ProactivePeriod: gc.ProactivePeriod}
	wantGroup := group.Config{MaxGroupMembers: 7, MaxMembersPerCall: 3, PassiveWindow: 2 * time.Minute,
		PassiveReplies: 2, ProactiveQuota: 9, ProactivePeriod: 48 * time.Hour}
	if d := cmp.Diff(wantGroup, gotGroup); d != "" {
		t.Errorf("group config (-want +got):\n%s", d)
	}

	wantQQ := qqbot.Options{HeartbeatInterval: 20 * time.Second, HeartbeatTimeout: 2 * time.Minute,
		IdentifyTimeout: 5 * time.Second, MaxGatewayConns: 14, EventRetention: 3 * time.Hour,
		SessionRetention: 4 * time.Hour, TokenTTL: time.Hour, MaxFrame: 4096, MaxBody: 8192, IdentifyRate: 12,
		RESTRate: 11, TokenFailRate: 13, MaxShards: 4, PruneInterval: 5 * time.Minute, WriteTimeout: 3 * time.Second}
	// The node's name, kept in the data directory, names it in its gateway sessions.
	if wantQQ.Node, err = nodeName(data); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantQQ, tm.QQ.Options(), cmpopts.IgnoreFields(qqbot.Options{}, "Now", "Logger", "Observer")); d != "" {
		t.Errorf("qqbot options (-want +got):\n%s", d)
	}
}

// TestConfigRefused checks that a value out of range stops qun serve at start
// with exit code 2 and a message naming the setting, from a flag or a variable.
func TestConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--identify-timeout", "0s"}, nil, "identify-timeout must be at least 1s"},
		{[]string{"--identify-timeout", "2m"}, nil, "identify-timeout must be at least 1s and at most heartbeat-timeout (1m30s)"},
		{nil, map[string]string{"QUN_SESSION_RETENTION": "1m"}, "session-retention must be at least heartbeat-timeout"},
		{[]string{"--token-fail-rate", "0"}, nil, "token-fail-rate must be -1 (no limit) or at least 1"},
		{[]string{"--token-fail-rate", "-2"}, nil, "token-fail-rate must be -1"},
		{[]string{"--token-ttl", "1m"}, nil, "token-ttl must be more than 1m"},
		{[]string{"--max-shards", "0"}, nil, "max-shards must be at least 1"},
		{[]string{"--max-frame", "100"}, nil, "max-frame must be 1024 to 16777216 bytes"},
		{nil, map[string]string{"QUN_MAX_FRAME": "1e9"}, `QUN_MAX_FRAME: "1e9" is not an integer`},
		{[]string{"--max-rest-body", "999999999"}, nil, "max-rest-body must be 1024 to 67108864 bytes"},
		{[]string{"--passive-window", "0s"}, nil, "passive-window must be at least 1s"},
		{[]string{"--passive-window", "five minutes"}, nil, "is not a duration"},
		{[]string{"--passive-replies", "0"}, nil, "passive-replies must be at least 1"},
		{[]string{"--proactive-period", "1s"}, nil, "proactive-period must be at least 1m"},
		{[]string{"--max-members-per-call", "0"}, nil, "max-members-per-call must be at least 1"},
		{nil, map[string]string{"QUN_MAX_MEMBERS_PER_CALL": "-5"}, "max-members-per-call must be at least 1"},
		{[]string{"--heartbeat-interval", "2m"}, nil, "heartbeat-interval must be at least 1s and less than heartbeat-timeout"},
		{[]string{"--write-timeout", "1ms"}, nil, "write-timeout must be at least 1s"},
		{[]string{"--prune-interval", "1s"}, nil, "prune-interval must be at least 1m"},
	} {
		t.Run(strings.Join(tc.args, " ")+mapString(tc.env), func(t *testing.T) {
			var out bytes.Buffer
			env := func(k string) string { return tc.env[k] }
			code := Run(context.Background(), append([]string{"serve"}, tc.args...), env, &out, &out)
			if code != 2 || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d, output %q; want exit 2 containing %q", code, out.String(), tc.want)
			}
		})
	}
}

func mapString(m map[string]string) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=" + v)
	}
	return b.String()
}

// TestREADMEListsEveryFlag checks that the README's configuration table has
// a row for every flag, with its variable and its default, and no row for a
// flag that does not exist.
func TestREADMEListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := make(map[string][]string) // flag → its row's cells
	for _, line := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		rows[strings.TrimPrefix(cells[0], "--")] = cells
	}
	var c Config
	for _, o := range c.options() {
		cells, ok := rows[o.name]
		if !ok {
			t.Errorf("README: no row for --%s", o.name)
			continue
		}
		delete(rows, o.name)
		if len(cells) < 3 || cells[1] != o.env {
			t.Errorf("README: --%s row %q: want variable %s", o.name, cells, o.env)
			continue
		}
		if o.def != "" && cells[2] != o.def {
			t.Errorf("README: --%s default %q, want %q", o.name, cells[2], o.def)
		}
	}
	for name := range rows {
		t.Errorf("README lists --%s, which qun serve does not have", name)
	}
}
