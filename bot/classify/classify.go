// Package classify proposes GB/T 47678.5 categories for the short text a
// grid inspector sends with a photo ("垃圾桶满了没人倒", "井盖没了").
//
// It is a weighted keyword classifier whose knowledge is data: the embedded
// dictionary.yaml lists, for each standard code, its name, the plan category
// (one of the six focus areas of 城市管理进社区), the department of the
// guidance officer who takes it, the deadline class, and weighted keywords
// including the colloquial and misspelt ways people really type them. Staff
// tune the file; the code only matches and adds.
//
// Scoring a text:
//  1. Normalise: full-width to half-width, lower-case Latin, drop spaces,
//     punctuation and symbols; then apply the dictionary's aliases (common
//     typos such as 拉圾 → 垃圾).
//  2. Find every keyword as a substring and keep the longest, so that each
//     character counts at most once ("垃圾桶满" wins over the "垃圾" inside
//     it). Stopwords take part in this and hide what they contain.
//  3. A category scores the sum of the weights of its distinct kept keywords.
//  4. Confusion rules (domain.md §1.5's confusion pairs, e.g. a full bin is
//     06042 not 06010) fire on the words present anywhere in the text: they
//     add to one code and scale others down. Final score =
//     (keyword sum + rule boosts) × product of rule keeps.
//  5. A text that reports a problem as already fixed (已清理, 已修好) has all
//     scores scaled by resolved.keep, so it is never proposed with confidence.
//
// The classifier proposes; a person confirms. Confident says when the top
// candidate is clear enough to be offered alone.
package classify

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed dictionary.yaml
var dictionaryYAML []byte

// Category is one standard category of the dictionary.
type Category struct {
	Code string // five-digit GB/T 47678.5 code, e.g. 06042
	Name string // the standard name, e.g. 垃圾站（箱）满溢
	Plan string // one of Plans()
	Dept string // one of Depts(): the guidance officer's department
	Size string // "small" (小事不过夜) or "big" (大事不过周)
}

// Candidate is a category proposed for a text.
type Candidate struct {
	Category
	// Score is the category's weighted keyword score after confusion rules.
	Score float64
	// Confidence is Score's share of the sum of the top three scores (0..1).
	Confidence float64
}

// Classifier scores texts against a compiled dictionary. It is immutable
// and safe for concurrent use.
type Classifier struct {
	m            *matcher
	alias        *strings.Replacer
	cats         []Category
	byCode       map[string]int
	order        []int // category indexes in code order
	rules        []rule
	resolvedKeep float64
	minScore     float64
	minRatio     float64
}

// Load compiles the embedded dictionary.yaml.
func Load() (*Classifier, error) {
	return New(dictionaryYAML)
}

// Plans returns the six plan categories in the order the plan lists them
// (董家街道《关于全面推广"城市管理进社区"工作实施方案》, 职责 4).
func Plans() []string {
	return []string{"市容管理", "环境卫生", "停车秩序", "建设活动管理", "市政公用设施", "社区环境综合整治"}
}

// Depts returns the four departments that send guidance officers:
// sanitation, housing and construction, landscaping, enforcement.
func Depts() []string {
	return []string{"环卫", "住建", "园林", "执法"}
}

// Category returns the category with the given code.
func (c *Classifier) Category(code string) (Category, bool) {
	i, ok := c.byCode[code]
	if !ok {
		return Category{}, false
	}
	return c.cats[i], true
}

// Categories returns every category in code order.
func (c *Classifier) Categories() []Category {
	out := make([]Category, len(c.order))
	for i, j := range c.order {
		out[i] = c.cats[j]
	}
	return out
}

// Classify returns the categories that score for text, best first (ties in
// code order), at most n of them (all when n ≤ 0). Only positive scores are
// returned; a text with no keyword (empty, "你好", a stray emoji) gives nil.
func (c *Classifier) Classify(text string, n int) []Candidate {
	norm := c.rewrite(normalize(text))
	if norm == "" {
		return nil
	}
	runes := []rune(norm)

	var mbuf [64]match
	ms := c.m.find(runes, mbuf[:0])
	if len(ms) == 0 {
		return nil
	}

	// Rules and the resolved marker look at every occurrence, even one
	// inside a longer keyword. Bit g of state[r] says group g of rule r is
	// satisfied; the top bit says an unless word of r is present.
	var sbuf [128]uint64
	state := scratch(sbuf[:], len(c.rules))
	resolved := false
	for _, x := range ms {
		p := &c.m.pats[x.pat]
		resolved = resolved || p.resolved
		for _, ref := range p.refs {
			if ref.g < 0 {
				state[ref.r] |= 1 << 63
			} else {
				state[ref.r] |= 1 << uint(ref.g)
			}
		}
	}

	// Keywords count once per position (longest first) and once per text.
	var fbuf [2 * 128]float64
	f := scratch(fbuf[:], 2*len(c.cats))
	scores, keep := f[:len(c.cats)], f[len(c.cats):]
	kept := c.m.longest(ms, len(runes))
	for i, x := range kept {
		if slices.ContainsFunc(kept[:i], func(y match) bool { return y.pat == x.pat }) {
			continue // a keyword repeated in a rambling message counts once
		}
		for _, h := range c.m.pats[x.pat].hits {
			scores[h.cat] += h.w
		}
	}

	for i := range keep {
		keep[i] = 1
	}
	for i := range c.rules {
		r := &c.rules[i]
		if state[i] != uint64(1)<<uint(r.groups)-1 {
			continue // a group unmet, or an unless word present
		}
		if r.toward >= 0 {
			scores[r.toward] += r.s
		}
		for _, a := range r.away {
			keep[a] *= r.keep
		}
	}
	if resolved {
		for i := range keep {
			keep[i] *= c.resolvedKeep
		}
	}

	var out []Candidate
	for i, s := range scores {
		if s *= keep[i]; s > 0 {
			out = append(out, Candidate{Category: c.cats[i], Score: s})
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Code, b.Code)
	})
	var top float64
	for i := 0; i < len(out) && i < 3; i++ {
		top += out[i].Score
	}
	for i := range out {
		out[i].Confidence = out[i].Score / top
	}
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// scratch returns buf[:n] zeroed, or a new slice when buf is too small.
func scratch[T uint64 | float64](buf []T, n int) []T {
	if n > len(buf) {
		return make([]T, n)
	}
	clear(buf[:n])
	return buf[:n]
}

// Confident reports whether the first of cands (as returned by Classify,
// best first) is clear enough to propose alone instead of a short list:
// its score is at least confident.min_score of the dictionary (default 3,
// about one specific phrase) and at least confident.min_ratio (default 1.5)
// times the second candidate's score. Pass at least two candidates (Classify
// with n ≥ 2); with a single candidate there is no runner-up to compare.
func (c *Classifier) Confident(cands []Candidate) bool {
	if len(cands) == 0 || cands[0].Score < c.minScore {
		return false
	}
	return len(cands) == 1 || cands[0].Score >= c.minRatio*cands[1].Score
}

// Explain classifies text and returns one line per candidate, best first:
// "code name plan score", e.g. "06042 垃圾站（箱）满溢 环境卫生 7.50".
func (c *Classifier) Explain(text string, n int) []string {
	cands := c.Classify(text, n)
	out := make([]string, len(cands))
	for i, k := range cands {
		out[i] = fmt.Sprintf("%s %s %s %.2f", k.Code, k.Name, k.Plan, k.Score)
	}
	return out
}

// rewrite applies the dictionary's aliases to normalised text.
func (c *Classifier) rewrite(s string) string {
	if c.alias == nil || s == "" {
		return s
	}
	return c.alias.Replace(s)
}
