package panel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/panel"
)

// BenchmarkPanelBySecret is the door's critical path: a warm lookup among
// 1,000 panels on the memory store.
func BenchmarkPanelBySecret(b *testing.B) {
	ctx := context.Background()
	e := open(b)
	var secret string
	for i := range 1000 {
		serial := fmt.Sprintf("P%04d", i)
		require.NoError(b, e.r.Put(ctx, serial, "panel"))
		s, err := panel.NewSecret()
		require.NoError(b, err)
		require.NoError(b, e.r.SetSecret(ctx, serial, s))
		secret = s
	}
	_, err := e.r.PanelBySecret(ctx, secret) // warm
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.r.PanelBySecret(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	e := open(b)
	require.NoError(b, e.r.Put(ctx, "P1", ""))
	require.NoError(b, e.r.SetPassword(ctx, "P1", "password"))
	tok, err := e.r.Login(ctx, "P1", "password")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.r.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeen is a pong: memory only, but for one write a minute.
func BenchmarkSeen(b *testing.B) {
	ctx := context.Background()
	e := open(b)
	require.NoError(b, e.r.Put(ctx, "P1", ""))
	require.NoError(b, e.r.Seen(ctx, "P1"))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.r.Seen(ctx, "P1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPushLogs100 pushes a page of 100 new events, with info, into
// a journal on the memory store.
func BenchmarkPushLogs100(b *testing.B) {
	ctx := context.Background()
	e := open(b)
	require.NoError(b, e.r.Put(ctx, "P1", ""))
	page := make([]panel.LogEvent, panel.PageSize)
	infos := make([]json.RawMessage, len(page))
	for i := range infos {
		infos[i] = json.RawMessage(fmt.Sprintf(`{"identifier_number":"%08d","lock":1,"user":"Jane Doe"}`, i))
	}
	base := int64(1_767_000_000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range page {
			page[i] = panel.LogEvent{CreatedAt: base, Category: "access", Code: "access_granted_by_valid_identifier", Info: infos[i]}
			base++
		}
		n, err := e.r.PushLogs(ctx, "P1", page)
		if err != nil || n != len(page) {
			b.Fatal(n, err)
		}
	}
}
