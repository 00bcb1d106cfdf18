package observable

import (
	"strings"

	htmltomarkdown "github.com/JohannesKaufmann/html-to-markdown/v2"
)

// HTMLToMarkdown converts an HTML body to Markdown for display, for
// example in a TheHive task log: links, emphasis, lists and tables are
// kept, scripts, styles and comments dropped. Should the conversion fail,
// it returns the text of the HTML without markup.
func HTMLToMarkdown(html string) string {
	md, err := htmltomarkdown.ConvertString(html)
	if err != nil {
		return HTMLText(html)
	}
	return strings.TrimSpace(md)
}
