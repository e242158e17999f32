package main

import (
	"testing"
	"fmt"
)

func TestZZDump(t *testing.T) {
	w := newWorld(t, backend{name: "sqlite", env: map[string]string{}}, morning)
	k := w.report("zhuqiang", "dc01", "东盛路菜市场门口垃圾桶满了，垃圾溢出来没人清理")
	w.click("zhangwei", w.lastCard("zhangwei", "call_guidance"), "call_guidance")
	k = w.caseByNo(k.No)
	o := k.Assignee
	w.click(o, w.lastCard(o, "accept"), "accept")
	w.click(o, w.lastCard(o, "handled"), "handled")
	w.photo(o)
	w.click("zhuqiang", w.lastCard("zhuqiang", "verify_ok"), "verify_ok")
	w.text("zhuqiang", "跳过")
	for _, r := range w.fake.Requests() {
		if r.API == "gettoken" || r.API=="media/get" { continue }
		fmt.Printf("%d %s to=%s type=%s task=%s rcpt=%v\n  %s\n", r.Seq, r.API, r.To, r.MsgType, r.TaskID, r.Recipients, r.Body)
	}
}
