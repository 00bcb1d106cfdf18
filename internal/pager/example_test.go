package pager_test

import (
	"context"
	"fmt"

	"github.com/synapse-go/synapse/internal/pager"
)

// Offset pages through a list ten items at a time, fetching a page only
// when the loop needs it.
func ExampleOffset() {
	fetches := 0
	fetch := func(_ context.Context, offset, size int) ([]int, int, error) {
		fetches++
		var page []int
		for i := offset; i < min(offset+size, 25); i++ {
			page = append(page, i)
		}
		return page, 25, nil
	}
	for v, err := range pager.Offset(context.Background(), 10, fetch) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if v == 12 {
			break
		}
	}
	fmt.Println("pages fetched:", fetches)
	// Output: pages fetched: 2
}
