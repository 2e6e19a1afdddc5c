package store

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestReadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	for _, tt := range []struct {
		name    string
		fsys    fstest.MapFS
		want    []Migration
		wantErr bool
	}{
		{name: "none", fsys: fstest.MapFS{}},
		{
			name: "in number order, not name order",
			fsys: fstest.MapFS{
				"0010_ten.sql":   file("ten"),
				"0002_two.sql":   file("two"),
				"0001_one.sql":   file("one"),
				"0003_three.sql": file("three"),
				"0004_four.sql":  file("four"),
				"0005_five.sql":  file("five"),
				"0006_six.sql":   file("six"),
				"0007_seven.sql": file("seven"),
				"0008_eight.sql": file("eight"),
				"0009_nine.sql":  file("nine"),
				"README.md":      file("not a migration"),
				"sub/0011_x.sql": file("not at the root"),
			},
			want: []Migration{
				{1, "0001_one.sql", "one"}, {2, "0002_two.sql", "two"}, {3, "0003_three.sql", "three"},
				{4, "0004_four.sql", "four"}, {5, "0005_five.sql", "five"}, {6, "0006_six.sql", "six"},
				{7, "0007_seven.sql", "seven"}, {8, "0008_eight.sql", "eight"}, {9, "0009_nine.sql", "nine"},
				{10, "0010_ten.sql", "ten"},
			},
		},
		{name: "gap", fsys: fstest.MapFS{"0001_a.sql": file(""), "0003_c.sql": file("")}, wantErr: true},
		{name: "repeat", fsys: fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}, wantErr: true},
		{name: "not from 1", fsys: fstest.MapFS{"0002_b.sql": file("")}, wantErr: true},
		{name: "zero", fsys: fstest.MapFS{"0000_a.sql": file("")}, wantErr: true},
		{name: "no number", fsys: fstest.MapFS{"init.sql": file("")}, wantErr: true},
		{name: "no underscore", fsys: fstest.MapFS{"0001.sql": file("")}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadMigrations(tt.fsys, ".")
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadMigrations: %v, want an error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("migrations (-want +got):\n%s", d)
			}
		})
	}
}
