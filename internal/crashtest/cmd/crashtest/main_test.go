package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"-emails", "-5"}, "must be positive"},
		{[]string{"-min", "2s", "-max", "1s"}, "not a range"},
	}
	for _, tt := range tests {
		var out, errs bytes.Buffer
		ok, err := run(t.Context(), tt.args, &out, &errs)
		if ok || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, %v; want an error containing %q", tt.args, ok, err, tt.want)
		}
	}
}
