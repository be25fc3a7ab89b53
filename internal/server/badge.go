package server

import (
	"fmt"
	"html"
	"strings"
)

// Colours of the badges: the ones shields.io and most CIs use, so a README's row of badges
// reads the same way.
const (
	colorPassing = "#4c1"
	colorFailing = "#e05d44"
	colorWarning = "#fe7d37"
	colorUnknown = "#9f9f9f"
)

// badge is a flat two-part badge: a grey label and a coloured message.
type badge struct {
	Label, Message, Color string
}

// badgeHeight and badgePadding are the flat style's box: 20 px high, 5 px each side of a text.
const (
	badgeHeight  = 20
	badgePadding = 5
)

// textWidth estimates the width in pixels of s set in Verdana 11 px, the flat badges' font.
// The SVG pins each text to this width (textLength), so the badge looks the same whichever
// fallback font the viewer has, and its width is known without a font at hand.
func textWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.,:;'|!", r):
			w += 3.1
		case strings.ContainsRune("fjrtI()[] /-", r):
			w += 4.3
		case strings.ContainsRune("mwMW", r):
			w += 10.7
		case r >= 'A' && r <= 'Z', r == '+', r == '_':
			w += 7.6
		default: // lower-case letters, digits and the rest
			w += 7.0
		}
	}
	return int(w + 0.5)
}

// Widths returns the widths of the label part, the message part and the whole badge.
func (b badge) Widths() (label, message, total int) {
	label = textWidth(b.Label) + 2*badgePadding
	message = textWidth(b.Message) + 2*badgePadding
	return label, message, label + message
}

// SVG renders the badge. Texts are escaped: a name or version comes from a resource file.
func (b badge) SVG() string {
	lw, mw, w := b.Widths()
	label, msg := html.EscapeString(b.Label), html.EscapeString(b.Message)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s: %s">`, w, badgeHeight, label, msg)
	fmt.Fprintf(&s, `<title>%s: %s</title>`, label, msg)
	s.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&s, `<clipPath id="r"><rect width="%d" height="%d" rx="3" fill="#fff"/></clipPath>`, w, badgeHeight)
	fmt.Fprintf(&s, `<g clip-path="url(#r)"><rect width="%d" height="%d" fill="#555"/><rect x="%d" width="%d" height="%d" fill="%s"/><rect width="%d" height="%d" fill="url(#s)"/></g>`,
		lw, badgeHeight, lw, mw, badgeHeight, b.Color, w, badgeHeight)
	s.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	for _, t := range []struct {
		x, width int
		text     string
	}{{lw / 2, lw - 2*badgePadding, label}, {lw + mw/2, mw - 2*badgePadding, msg}} {
		// A shadow one pixel below, then the text: the flat style's embossed look.
		fmt.Fprintf(&s, `<text x="%d" y="15" fill="#010101" fill-opacity=".3" textLength="%d" lengthAdjust="spacingAndGlyphs">%s</text>`, t.x, t.width, t.text)
		fmt.Fprintf(&s, `<text x="%d" y="14" textLength="%d" lengthAdjust="spacingAndGlyphs">%s</text>`, t.x, t.width, t.text)
	}
	s.WriteString(`</g></svg>`)
	return s.String()
}
