package pager

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeqIsLazyAndStopsOnBreak(t *testing.T) {
	t.Parallel()
	var fetched []int
	fetch := func(_ context.Context, page int) (Page[int, int], error) {
		fetched = append(fetched, page)
		return Page[int, int]{Items: []int{page * 10, page*10 + 1}, Next: page + 1, More: page < 5}, nil
	}
	seq := Seq(t.Context(), 0, fetch)
	if len(fetched) != 0 {
		t.Fatal("Seq fetched before being ranged over")
	}
	var got []int
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		if v == 11 {
			break
		}
	}
	if diff := cmp.Diff([]int{0, 1, 10, 11}, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 1}, fetched); diff != "" {
		t.Errorf("pages fetched (-want +got):\n%s", diff)
	}
}

func TestSeqStopsAtFirstError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	fetch := func(_ context.Context, page int) (Page[string, int], error) {
		if page == 1 {
			return Page[string, int]{}, boom
		}
		return Page[string, int]{Items: []string{"a"}, Next: page + 1, More: true}, nil
	}
	var items []string
	var errs []error
	for v, err := range Seq(t.Context(), 0, fetch) {
		if err != nil {
			errs = append(errs, err)
			continue // a well-behaved iterator yields nothing after its error
		}
		items = append(items, v)
	}
	if len(items) != 1 || len(errs) != 1 || !errors.Is(errs[0], boom) {
		t.Errorf("items %v errors %v, want [a] and [boom]", items, errs)
	}
}

func TestSeqHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	fetch := func(_ context.Context, page int) (Page[int, int], error) {
		calls++
		return Page[int, int]{Items: []int{page}, Next: page + 1, More: true}, nil
	}
	var err error
	for v, e := range Seq(ctx, 0, fetch) {
		if e != nil {
			err = e
			break
		}
		if v == 2 {
			cancel()
		}
	}
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Errorf("err %v after %d fetches, want context.Canceled after 3", err, calls)
	}
}

func TestOffset(t *testing.T) {
	t.Parallel()
	data := make([]int, 23)
	for i := range data {
		data[i] = i
	}
	tests := []struct {
		name      string
		total     func() int
		size      int
		wantCalls int
	}{
		{"short last page", func() int { return -1 }, 10, 3},
		{"exact multiple ends on an empty page", func() int { return -1 }, 23, 2},
		{"total known stops without an empty page", func() int { return len(data) }, 23, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			fetch := func(_ context.Context, offset, size int) ([]int, int, error) {
				calls++
				end := min(offset+size, len(data))
				if offset >= len(data) {
					return nil, tt.total(), nil
				}
				return data[offset:end], tt.total(), nil
			}
			var got []int
			for v, err := range Offset(t.Context(), tt.size, fetch) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if diff := cmp.Diff(data, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d fetches, want %d", calls, tt.wantCalls)
			}
		})
	}
}
