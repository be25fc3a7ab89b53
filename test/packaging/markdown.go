package packaging

import "strings"

// CodeBlock is the text of one fenced code block of a Markdown document.
type CodeBlock struct {
	// Text is the block's content without its fences.
	Text string
	// Line is the number of the block's first content line in the document.
	Line int
}

// MarkdownCode returns the fenced code blocks of a Markdown document, so commands shown to
// readers can be checked like the ones in unit files. Prose is skipped: a sentence naming the
// program is not a call.
func MarkdownCode(text string) []CodeBlock {
	var (
		blocks []CodeBlock
		cur    []string
		in     bool
		start  int
	)
	for n, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if in {
				blocks = append(blocks, CodeBlock{Text: strings.Join(cur, "\n"), Line: start})
				cur = nil
			}
			in, start = !in, n+2
			continue
		}
		if in {
			cur = append(cur, line)
		}
	}
	return blocks
}
