package classify

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML shape of dictionary.yaml. Field names are short because staff
// edit hundreds of keyword lines by hand; unknown fields are rejected so a
// typo ("weigth:") fails loudly instead of being ignored.

type dictYAML struct {
	Version    int             `yaml:"version"`
	Confident  confidentYAML   `yaml:"confident"`
	Resolved   resolvedYAML    `yaml:"resolved"`
	Aliases    []aliasYAML     `yaml:"aliases"`
	Stopwords  []string        `yaml:"stopwords"`
	Categories []categoryYAML  `yaml:"categories"`
	Confusions []confusionYAML `yaml:"confusions"`
}

type confidentYAML struct {
	MinScore float64 `yaml:"min_score"`
	MinRatio float64 `yaml:"min_ratio"`
}

type resolvedYAML struct {
	Words []string `yaml:"words"`
	Keep  float64  `yaml:"keep"`
}

type aliasYAML struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

type categoryYAML struct {
	Code     string        `yaml:"code"`
	Name     string        `yaml:"name"`
	Plan     string        `yaml:"plan"`
	Dept     string        `yaml:"dept"`
	Size     string        `yaml:"size"`
	Keywords []keywordYAML `yaml:"keywords"`
}

type keywordYAML struct {
	W string  `yaml:"w"`
	S float64 `yaml:"s"`
}

type confusionYAML struct {
	Name   string   `yaml:"name"`
	Note   string   `yaml:"note"`
	When   []string `yaml:"when"`
	Unless []string `yaml:"unless"`
	Toward string   `yaml:"toward"`
	S      float64  `yaml:"s"`
	Away   []string `yaml:"away"`
	Keep   *float64 `yaml:"keep"`
}

// rule is a compiled confusion rule: it fires when every group of its when
// list has a pattern present and no unless pattern is. The patterns point
// back at the rule (pattern.refs), so a text only touches the rules its
// words mention.
type rule struct {
	name   string
	groups int     // number of when groups (≤ maxGroups)
	toward int     // category index, or -1
	s      float64 // added to toward
	away   []int   // category indexes scaled by keep
	keep   float64
}

// maxGroups bounds the when groups of a rule: their satisfaction is a bit
// set in a uint64, one bit of which marks an unless hit.
const maxGroups = 32

// Defaults of the Confident rule when the dictionary leaves them out.
const (
	defaultMinScore = 3.0
	defaultMinRatio = 1.5
)

// New compiles a dictionary in the YAML format of dictionary.yaml. It checks
// every entry and reports all problems at once, each naming its entry:
// codes must be five digits and unique, plan one of Plans(), dept one of
// Depts(), size small or big, keywords non-empty with weights > 0, and the
// confusion rules must name known codes.
func New(dictionaryYAML []byte) (*Classifier, error) {
	var d dictYAML
	dec := yaml.NewDecoder(bytes.NewReader(dictionaryYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("classify: dictionary: %w", err)
	}

	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	c := &Classifier{
		m:        newMatcher(),
		byCode:   map[string]int{},
		minScore: d.Confident.MinScore,
		minRatio: d.Confident.MinRatio,
	}
	if c.minScore == 0 {
		c.minScore = defaultMinScore
	}
	if c.minRatio == 0 {
		c.minRatio = defaultMinRatio
	}
	if c.minScore < 0 || c.minRatio < 1 {
		bad("confident: min_score must be ≥ 0 and min_ratio ≥ 1 (got %v, %v)", d.Confident.MinScore, d.Confident.MinRatio)
	}
	if len(d.Categories) == 0 {
		bad("no categories")
	}

	// Aliases first: keywords are matched against rewritten text, so they
	// are rewritten the same way.
	var pairs []aliasYAML
	for i, a := range d.Aliases {
		from, to := normalize(a.From), normalize(a.To)
		if from == "" || to == "" || from == to {
			bad("alias #%d (%q → %q): both sides must be non-empty and differ", i+1, a.From, a.To)
			continue
		}
		pairs = append(pairs, aliasYAML{from, to})
	}
	// Longest first: strings.Replacer tries pairs in argument order.
	sort.SliceStable(pairs, func(a, b int) bool { return len(pairs[a].From) > len(pairs[b].From) })
	var args []string
	for _, p := range pairs {
		args = append(args, p.From, p.To)
	}
	if len(args) > 0 {
		c.alias = strings.NewReplacer(args...)
	}
	norm := func(s string) string { return c.rewrite(normalize(s)) }

	plans, depts := setOf(Plans()), setOf(Depts())
	for i, e := range d.Categories {
		entry := fmt.Sprintf("category #%d (%s %s)", i+1, e.Code, e.Name)
		if !isCode(e.Code) {
			bad("%s: code %q is not five digits", entry, e.Code)
		} else if j, dup := c.byCode[e.Code]; dup {
			bad("%s: code %s already used by category #%d", entry, e.Code, j+1)
		}
		if strings.TrimSpace(e.Name) == "" {
			bad("%s: name is empty", entry)
		}
		if !plans[e.Plan] {
			bad("%s: plan %q is not one of %s", entry, e.Plan, strings.Join(Plans(), ", "))
		}
		if !depts[e.Dept] {
			bad("%s: dept %q is not one of %s", entry, e.Dept, strings.Join(Depts(), ", "))
		}
		if e.Size != "small" && e.Size != "big" {
			bad("%s: size %q must be small or big", entry, e.Size)
		}
		if len(e.Keywords) == 0 {
			bad("%s: no keywords", entry)
		}
		idx := len(c.cats)
		if _, dup := c.byCode[e.Code]; !dup {
			c.byCode[e.Code] = idx
		}
		c.cats = append(c.cats, Category{Code: e.Code, Name: e.Name, Plan: e.Plan, Dept: e.Dept, Size: e.Size})
		seen := map[string]bool{}
		for _, k := range e.Keywords {
			w := norm(k.W)
			switch {
			case w == "":
				bad("%s: keyword %q is empty after normalisation", entry, k.W)
				continue
			case !(k.S > 0):
				bad("%s: keyword %q: weight %v must be > 0", entry, k.W, k.S)
				continue
			case seen[w]:
				bad("%s: keyword %q listed twice", entry, k.W)
				continue
			}
			seen[w] = true
			p := &c.m.pats[c.m.add(w)]
			p.hits = append(p.hits, hit{cat: idx, w: k.S})
			p.rank = max(p.rank, k.S)
		}
	}

	for i, s := range d.Stopwords {
		w := norm(s)
		if w == "" {
			bad("stopword #%d %q is empty after normalisation", i+1, s)
			continue
		}
		p := &c.m.pats[c.m.add(w)]
		if len(p.hits) > 0 {
			bad("stopword %q is also a keyword", s)
		}
		p.stop = true
	}

	for i, w := range d.Resolved.Words {
		n := norm(w)
		if n == "" {
			bad("resolved word #%d %q is empty after normalisation", i+1, w)
			continue
		}
		c.m.pats[c.m.add(n)].resolved = true
	}
	c.resolvedKeep = d.Resolved.Keep
	if len(d.Resolved.Words) > 0 && (c.resolvedKeep <= 0 || c.resolvedKeep > 1) {
		bad("resolved: keep %v must be in (0, 1]", d.Resolved.Keep)
	}

	names := map[string]bool{}
	for i, r := range d.Confusions {
		entry := fmt.Sprintf("confusion #%d (%s)", i+1, r.Name)
		if strings.TrimSpace(r.Name) == "" {
			bad("%s: name is empty", entry)
		} else if names[r.Name] {
			bad("%s: name used twice", entry)
		}
		names[r.Name] = true
		ri := int32(len(c.rules))
		cr := rule{name: r.Name, toward: -1, s: r.S, groups: len(r.When)}
		if len(r.When) == 0 && len(r.Unless) == 0 {
			bad("%s: needs when or unless", entry)
		}
		if len(r.When) > maxGroups {
			bad("%s: more than %d when groups", entry, maxGroups)
		}
		// ref adds a back-reference once per pattern, rule and group.
		ref := func(w string, g int16) {
			p := &c.m.pats[c.m.add(w)]
			for _, x := range p.refs {
				if x.r == ri && x.g == g {
					return
				}
			}
			p.refs = append(p.refs, ruleRef{r: ri, g: g})
		}
		for gi, g := range r.When {
			n := 0
			for _, alt := range strings.Split(g, "|") {
				if w := norm(alt); w != "" {
					ref(w, int16(gi))
					n++
				}
			}
			if n == 0 {
				bad("%s: when group %q is empty", entry, g)
			}
		}
		for _, u := range r.Unless {
			for _, alt := range strings.Split(u, "|") {
				if w := norm(alt); w != "" {
					ref(w, -1)
				}
			}
		}
		if r.Toward != "" {
			j, ok := c.byCode[r.Toward]
			if !ok {
				bad("%s: toward code %s is not a category", entry, r.Toward)
			}
			cr.toward = j
			if !(r.S > 0) {
				bad("%s: toward needs s > 0", entry)
			}
		} else if r.S != 0 {
			bad("%s: s without toward", entry)
		}
		for _, a := range r.Away {
			j, ok := c.byCode[a]
			if !ok {
				bad("%s: away code %s is not a category", entry, a)
				continue
			}
			if a == r.Toward {
				bad("%s: code %s is both toward and away", entry, a)
			}
			cr.away = append(cr.away, j)
		}
		if len(r.Away) > 0 {
			if r.Keep == nil {
				bad("%s: away needs keep (the share of score the away codes keep, 0–1)", entry)
			} else if *r.Keep < 0 || *r.Keep >= 1 {
				bad("%s: keep %v must be in [0, 1)", entry, *r.Keep)
			} else {
				cr.keep = *r.Keep
			}
		} else if r.Keep != nil {
			bad("%s: keep without away", entry)
		}
		if r.Toward == "" && len(r.Away) == 0 {
			bad("%s: needs toward or away", entry)
		}
		c.rules = append(c.rules, cr)
	}

	if len(errs) > 0 {
		return nil, fmt.Errorf("classify: dictionary: %w", errors.Join(errs...))
	}
	c.order = make([]int, len(c.cats))
	for i := range c.order {
		c.order[i] = i
	}
	sort.Slice(c.order, func(a, b int) bool { return c.cats[c.order[a]].Code < c.cats[c.order[b]].Code })
	return c, nil
}

func isCode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
