package roster

import (
	"slices"
	"testing"
)

func TestLookups(t *testing.T) {
	r := Demo()
	p, ok := r.Person("zhangwei")
	if !ok || p.Name != "张伟" || p.District != "dongcheng" || !p.HasRole(RoleChief) {
		t.Errorf("Person(zhangwei) = %+v, %v", p, ok)
	}
	if _, ok := r.Person("nobody"); ok {
		t.Error("Person(nobody) found")
	}
	if !r.HasRole("zhuqiang", RoleInspector) || r.HasRole("zhuqiang", RoleChief) || r.HasRole("nobody", RoleInspector) {
		t.Error("HasRole is wrong")
	}
	if d, ok := r.District("xicheng"); !ok || d.Name != "西城管区" {
		t.Errorf("District(xicheng) = %+v, %v", d, ok)
	}
	if c, ok := r.Community("qiaoxi"); !ok || c.District != "xicheng" {
		t.Errorf("Community(qiaoxi) = %+v, %v", c, ok)
	}
	if g, ok := r.Grid("ny04"); !ok || g.Community != "xinzhuang" || g.District != "nanyuan" {
		t.Errorf("Grid(ny04) = %+v, %v", g, ok)
	}
	if _, ok := r.Grid("zz99"); ok {
		t.Error("Grid(zz99) found")
	}

	if got := userIDs(r.Chiefs("dongcheng")); !slices.Equal(got, []string{"zhangwei", "lina"}) {
		t.Errorf("Chiefs(dongcheng) = %v", got)
	}
	if got := userIDs(r.Chiefs("nowhere")); got != nil {
		t.Errorf("Chiefs(nowhere) = %v", got)
	}
	if got := userIDs(r.InspectorsOf("dc01")); !slices.Equal(got, []string{"zhuqiang"}) {
		t.Errorf("InspectorsOf(dc01) = %v", got)
	}
	if got := userIDs(r.StationStaff("nanyuan")); !slices.Equal(got, []string{"pengyan"}) {
		t.Errorf("StationStaff(nanyuan) = %v", got)
	}
	// 吕青 (xicheng) also serves zhongxin through its communities.
	if got := userIDs(r.Guidance("zhongxin", DeptLandscape)); !slices.Equal(got, []string{"lvqing"}) {
		t.Errorf("Guidance(zhongxin, 园林) = %v", got)
	}
	if got := userIDs(r.Guidance("xicheng", DeptLandscape)); !slices.Equal(got, []string{"lvqing"}) {
		t.Errorf("Guidance(xicheng, 园林) = %v", got)
	}
	if got := r.Guidance("nanyuan", ""); len(got) != 4 {
		t.Errorf("Guidance(nanyuan, all) = %v, want 4", userIDs(got))
	}
	lvqing, _ := r.Person("lvqing")
	if got := r.ServedDistricts(lvqing); !slices.Equal(got, []string{"xicheng", "zhongxin"}) {
		t.Errorf("ServedDistricts(lvqing) = %v", got)
	}
	if got := userIDs(r.Committee()); !slices.Equal(got, []string{"renzhihua", "jialin"}) {
		t.Errorf("Committee = %v", got)
	}
	if got := userIDs(r.Leaders()); len(got) != 2 {
		t.Errorf("Leaders = %v", got)
	}

	if c, ok := r.DistrictChat("beiyuan"); !ok || c.ID != "DJbeiyuan" {
		t.Errorf("DistrictChat(beiyuan) = %+v, %v", c, ok)
	}
	if _, ok := r.DistrictChat(""); ok {
		t.Error(`DistrictChat("") returned the committee chat`)
	}
	if c, ok := r.CommitteeChat(); !ok || c.ID != "DJcommittee" {
		t.Errorf("CommitteeChat = %+v, %v", c, ok)
	}

	// Partners: the subdistrict-wide ones serve every district.
	police := r.PartnersOf(KindPolice, "xicheng")
	if len(police) != 1 || police[0].District != "" {
		t.Errorf("PartnersOf(公安, xicheng) = %+v", police)
	}
	prop := r.PartnersOf(KindProperty, "dongcheng")
	if len(prop) != 1 || prop[0].ID != "wy-anju" {
		t.Errorf("PartnersOf(物业, dongcheng) = %+v", prop)
	}
	res := r.PartnersOf(KindResidents, "nanyuan")
	if len(res) != 3 {
		t.Errorf("PartnersOf(居委会, nanyuan) = %d, want 3", len(res))
	}
	if all := r.PartnersOf("", ""); len(all) != len(r.Partners) {
		t.Errorf("PartnersOf(all) = %d of %d", len(all), len(r.Partners))
	}
}

func TestValidators(t *testing.T) {
	for s, want := range map[string]bool{
		"13853100001": true, "1385310000": false, "23853100001": false, "1385310000a": false, "": false,
	} {
		if isMobile(s) != want {
			t.Errorf("isMobile(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"0531-88886666": true, "053188886666": true, "010-1234567": true, "95598": true, "110": true,
		"0531-888": false, "531-88886666": false, "12": false, "0531 88886666": false,
	} {
		if isLandline(s) != want {
			t.Errorf("isLandline(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"DJdongcheng": true, "DJ-dongcheng": false, "": false, "a23456789012345678901234567890123": false,
	} {
		if isChatID(s) != want {
			t.Errorf("isChatID(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"zhangwei": true, "zhang.wei@x": true, "张伟": false, "": false} {
		if isUserID(s) != want {
			t.Errorf("isUserID(%q) = %v", s, !want)
		}
	}
}
