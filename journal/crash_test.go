//go:build unix

package journal_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
)

// The crash test re-executes this test binary as a child that writes
// events to a journal on a file store and prints what it was told: "A n"
// once Append of event n returned, "F n" once a Flush after it returned,
// "B n" once a batch event n written with AppendTx committed. The parent
// kills it with SIGKILL at random moments and reopens the file. What it
// finds must be, for each run of the child, a prefix of what that run
// appended, holding every flushed and every batch event, missing at most
// the events of the last groups (2 x MaxPending), with ids 1, 2, 3, ...
// without a gap across all runs.

const (
	journalCrashEnv = "LINTEL_JOURNAL_CRASH_CHILD"
	crashPending    = 64
)

func TestJournalCrashChild(t *testing.T) {
	path := os.Getenv(journalCrashEnv)
	if path == "" {
		t.Skip("runs only as the child of TestJournalCrash")
	}
	run := os.Getenv(journalCrashEnv + "_RUN")
	st, err := file.Open(path, &file.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	j, err := journal.Open(ctx, st, journal.Options{MaxEvents: 1 << 30, MaxPending: crashPending, FlushDelay: time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for n := 0; ; n++ {
		name := run + ":" + strconv.Itoa(n)
		switch {
		case n%97 == 0:
			err = st.Update(ctx, func(tx store.Tx) error {
				_, err := j.AppendTx(tx, journal.Event{Kind: journal.Batch, Name: name})
				return err
			})
			fmt.Fprintln(out, "B", n)
		default:
			err = j.Append(ctx, journal.Event{Kind: journal.Decision, Name: name})
			fmt.Fprintln(out, "A", n)
		}
		if err == nil && n%31 == 0 {
			err = j.Flush(ctx)
			fmt.Fprintln(out, "F", n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		_ = out.Flush()
	}
}

type crashRun struct {
	appended []int // A and B, in order
	flushed  int   // the last n flushed, -1 before any
	batches  []int
}

func TestJournalCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes for a few seconds")
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	r := rand.New(rand.NewPCG(1, 2))
	var runs []*crashRun
	deadline := time.Now().Add(4 * time.Second)
	for round := 0; round < 8 || time.Now().Before(deadline); round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJournalCrashChild$")
		cmd.Env = append(os.Environ(), journalCrashEnv+"="+path, fmt.Sprintf("%s_RUN=%d", journalCrashEnv, round))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		run := &crashRun{flushed: -1}
		runs = append(runs, run)
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		kill := time.After(time.Duration(20+r.IntN(200)) * time.Millisecond)
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				var op string
				var n int
				if _, err := fmt.Sscan(line, &op, &n); err != nil {
					continue
				}
				switch op {
				case "A":
					run.appended = append(run.appended, n)
				case "B":
					run.appended = append(run.appended, n)
					run.batches = append(run.batches, n)
				case "F":
					run.flushed = n
				}
			case <-kill:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				kill = nil
			}
		}
		_ = cmd.Wait()
		require.NotContains(t, stderr.String(), "journal:", "round %d", round)
	}

	st, err := file.Open(path, nil)
	require.NoError(t, err)
	defer st.Close()
	ctx := context.Background()
	j, err := journal.Open(ctx, st, journal.Options{MaxEvents: 1 << 30})
	require.NoError(t, err)
	defer j.Close(ctx)
	found := map[int][]int{} // run -> event numbers, in id order
	var last uint64
	for {
		evs, err := j.Events(ctx, last, journal.Filter{}, 0)
		require.NoError(t, err)
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			require.Equal(t, last+1, ev.ID, "ids without a gap")
			last = ev.ID
			var run, n int
			_, err := fmt.Sscanf(ev.Name, "%d:%d", &run, &n)
			require.NoError(t, err)
			found[run] = append(found[run], n)
		}
	}
	total, lost := 0, 0
	for i, run := range runs {
		// Batch events commit with their own transaction; queued events
		// with the writer's groups, so the two interleave by commit. Each
		// sequence on its own: what a run left of its queued events is a
		// prefix of what it appended, and it left every batch event that
		// committed (and perhaps the one committing when it died).
		isBatch := map[int]bool{}
		for _, b := range run.batches {
			isBatch[b] = true
		}
		var queued, batches []int
		for _, n := range run.appended {
			if !isBatch[n] {
				queued = append(queued, n)
			}
		}
		var gotQueued, gotBatches []int
		for _, n := range found[i] {
			if n%97 == 0 {
				gotBatches = append(gotBatches, n)
			} else {
				gotQueued = append(gotQueued, n)
			}
		}
		batches = run.batches
		require.GreaterOrEqual(t, len(gotBatches), len(batches), "run %d: every committed batch event is kept", i)
		require.LessOrEqual(t, len(gotBatches), len(batches)+1, "run %d", i)
		require.Equal(t, batches, gotBatches[:len(batches)], "run %d: batch events in order, once", i)
		require.LessOrEqual(t, len(gotQueued), len(queued)+1, "run %d: at most one unacknowledged event more", i)
		for k, n := range gotQueued[:min(len(gotQueued), len(queued))] {
			require.Equal(t, queued[k], n, "run %d: queued events in order, each once, none skipped", i)
		}
		if len(queued) > len(gotQueued) {
			lost += len(queued) - len(gotQueued)
			require.LessOrEqual(t, len(queued)-len(gotQueued), 2*crashPending, "run %d: at most the last groups are lost", i)
			if run.flushed >= 0 && !isBatch[run.flushed] {
				require.Contains(t, gotQueued, run.flushed, "run %d: every flushed event is kept", i)
			}
		}
		total += len(found[i])
	}
	t.Logf("%d runs killed; %d events kept, %d acknowledged by Append lost in the last groups", len(runs), total, lost)
}
