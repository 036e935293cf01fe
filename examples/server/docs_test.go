package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMEQuickStart: the quick start is two commands, the server and
// the tests, and the README says what a newcomer must know about them.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)## Quick start\n.*?```sh\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block)
	var commands []string
	for _, line := range strings.Split(strings.TrimSpace(string(block[1])), "\n") {
		command, _, _ := strings.Cut(line, "#")
		commands = append(commands, strings.TrimSpace(command))
	}
	assert.Equal(t, []string{"go run ./examples/server", "go test -race ./..."}, commands)
	for _, says := range []string{
		"relative to the directory you start it from", // where the data is
		"outlives the server",                         // that it persists
		"`-memory` keeps everything in memory",        // and what does not
		"stays set for later starts",                  // -admin-password-file replaces for good
		"five to ten minutes",                         // how long the first test run takes
		"`go test ./...`",                             // and the quick check
		"-tls-self-signed", "/readyz", "-metrics-addr", "-max-identifiers",
		"commercial use\nis allowed", "face/cascade/NOTICE",
	} {
		assert.Contains(t, string(readme), says)
	}
}

// TestThirdPartyNotices: the face cascade ships with pigo's and pico's MIT
// notices, and says plainly that commercial use is allowed.
func TestThirdPartyNotices(t *testing.T) {
	notice, err := os.ReadFile("../../face/cascade/NOTICE")
	require.NoError(t, err)
	text := string(notice)
	assert.Contains(t, text, "Copyright (c) 2018 Endre Simo")
	assert.Contains(t, text, "Copyright (c) 2013 Nenad Markus")
	assert.Equal(t, 2, strings.Count(text, "Permission is hereby granted, free of charge"), "two MIT notices")
	assert.Contains(t, text, "Commercial use is allowed.")
	assert.NotContains(t, text, "may not be sold", "pico's licence before 2016 is not the one that applies")
}

// TestBatchResultsDoc: the overview describes the wire as the walk-through
// shows it: one result per item, and warnings after it.
func TestBatchResultsDoc(t *testing.T) {
	doc, err := os.ReadFile("../../doc.go")
	require.NoError(t, err)
	text := strings.Join(strings.Fields(strings.ReplaceAll(string(doc), "//", "")), " ")
	assert.NotContains(t, text, "returns one result per input item")
	assert.Contains(t, text, "with one result, which may be followed by warnings")
}
