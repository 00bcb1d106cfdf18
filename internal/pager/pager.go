// Package pager turns a function that fetches one page of a list into a
// lazy iterator over every item of every page.
package pager

import (
	"context"
	"iter"
)

// Page is one page of results and where the next one starts.
type Page[T, C any] struct {
	// Items are the page's items, in order.
	Items []T
	// Next is the cursor of the next page. It is ignored when More is false.
	Next C
	// More reports whether another page may follow.
	More bool
}

// Fetch fetches the page that starts at cursor.
type Fetch[T, C any] func(ctx context.Context, cursor C) (Page[T, C], error)

// Seq returns an iterator over the items of every page, starting at first.
// It fetches nothing until it is ranged over, fetches the next page only when
// the previous one is used up, stops as soon as the loop breaks, and yields a
// single error (with the zero T) and stops on the first failure, including
// ctx ending between two pages.
func Seq[T, C any](ctx context.Context, first C, fetch Fetch[T, C]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cursor := first
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			page, err := fetch(ctx, cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
			if !page.More {
				return
			}
			cursor = page.Next
		}
	}
}

// Offset returns an iterator over a list paged by offset and size, such as
// TheHive's query API or QRadar's Range header. fetch returns the items from
// offset on, at most size of them, and the total when the server tells it
// (or -1). Paging ends at a short or empty page, or once total items were
// seen.
func Offset[T any](ctx context.Context, size int, fetch func(ctx context.Context, offset, size int) (items []T, total int, err error)) iter.Seq2[T, error] {
	if size <= 0 {
		size = 100
	}
	return Seq(ctx, 0, func(ctx context.Context, offset int) (Page[T, int], error) {
		items, total, err := fetch(ctx, offset, size)
		if err != nil {
			return Page[T, int]{}, err
		}
		next := offset + len(items)
		more := len(items) >= size && (total < 0 || next < total)
		return Page[T, int]{Items: items, Next: next, More: more}, nil
	})
}
