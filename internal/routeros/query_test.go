package routeros

import (
	"slices"
	"testing"
)

func TestDigestQuery(t *testing.T) {
	q, err := DigestQueryOf(updater(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q.TokenURL("registry.example", "owner/repo"), "https://registry.example/v2/token?scope=repository:owner/repo:pull"; got != want {
		t.Errorf("TokenURL = %q, want %q", got, want)
	}
	if got, want := q.ManifestURL("registry.example", "owner/repo", "v1.2"), "https://registry.example/v2/owner/repo/manifests/v1.2"; got != want {
		t.Errorf("ManifestURL = %q, want %q", got, want)
	}
	want := []Header{
		{"Authorization", "Bearer tok.en"},
		{"Accept", "application/vnd.oci.image.index.v1+json"},
		{"Accept", "application/vnd.docker.distribution.manifest.list.v2+json"},
	}
	if got := q.Headers("tok.en"); !slices.Equal(got, want) {
		t.Errorf("Headers = %q, want %q", got, want)
	}
	if q.TokenKey != "token" {
		t.Errorf("TokenKey = %q, want \"token\"", q.TokenKey)
	}
	if !q.CheckCertificate {
		t.Error("CheckCertificate = false, want true")
	}
}

// A script whose queryDigest changed shape is an error.
func TestDigestQueryErrors(t *testing.T) {
	text := updater(t)
	for _, m := range []struct{ old, new string }{
		{`:local queryDigest do={`, `:local askDigest do={`},
		{`"/v2/token\?scope=repository:"`, `"/v2/token?scope=repository:"`},
		{`":pull")]`, `":pull" . $scope)]`},
		{`"/manifests/" . $tag)`, `"/manifests/" . [:tostr $tag])`},
		{`"/manifests/" . $tag)`, `"/manifests/" $tag)`},
		{`output=user-with-headers as-value`, `output=user as-value`},
		{`output=user as-value`, `output=file as-value`},
		{`output=user-with-headers as-value`, `output=user-with-headers http-method=head as-value`},
		{`output=user as-value`, `output=user`},
		{`"Authorization: Bearer " . $token`, `"Authorization: Bearer " . $t`},
		{`",Accept: application/vnd.oci.image.index.v1+json"`, `",Accept application/vnd.oci.image.index.v1+json"`},
		{`http-header-field=(`, `http-header=(`},
		{`value=($t->"data")]->"token")`, `value=($m->"data")]->"token")`},
		{`value=($t->"data")]->"token")`, `value=($t->"data")]->$key)`},
		{`[$parseDigest ($m->"http-headers")]`, `[$parseDigest [:tostr $m]]`},
		{`:local m [/tool/fetch`, `:local m [/tool/fetch url="x" as-value]` + "\n" + `:local m [/tool/fetch`},
		{`:local m [/tool/fetch`, `:set m [/tool/fetch`},
	} {
		if q, err := DigestQueryOf(mutate(t, text, m.old, m.new)); err == nil {
			t.Errorf("%q replaced by %q: no error, %+v", m.old, m.new, q)
		} else {
			t.Logf("%q replaced by %q: %v", m.old, m.new, err)
		}
	}
}

// A changed request in queryDigest is a changed DigestQuery.
func TestDigestQueryFollowsTheScript(t *testing.T) {
	text := updater(t)
	orig, err := DigestQueryOf(text)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b DigestQuery) bool {
		return a.TokenURL("r.example", "o/r") == b.TokenURL("r.example", "o/r") &&
			a.ManifestURL("r.example", "o/r", "v1") == b.ManifestURL("r.example", "o/r", "v1") &&
			slices.Equal(a.Headers("t"), b.Headers("t")) &&
			a.TokenKey == b.TokenKey && a.CheckCertificate == b.CheckCertificate
	}
	for _, m := range []struct{ old, new string }{
		{`"/manifests/" . $tag)`, `"/manifests/latest")`},
		{`"/v2/" . $repo . "/manifests/"`, `"/v2/library/" . $repo . "/manifests/"`},
		{`":pull")]`, `":pull,push")]`},
		{`("https://" . $registry . "/v2/token`, `("http://" . $registry . "/v2/token`},
		{`",Accept: application/vnd.oci.image.index.v1+json"`, `",Accept: application/json"`},
		{`. $token . \`, `. $token . ",X-Extra: 1" . \`},
		{` . \` + "\n" + `        ",Accept: application/vnd.docker.distribution.manifest.list.v2+json")]`, `)]`},
		{`]->"token")`, `]->"access_token")`},
		{`check-certificate=yes output=user as-value`, `check-certificate=no output=user as-value`},
		{`check-certificate=yes output=user-with-headers`, `output=user-with-headers`},
	} {
		q, err := DigestQueryOf(mutate(t, text, m.old, m.new))
		if err != nil {
			t.Errorf("%q replaced by %q: %v", m.old, m.new, err)
			continue
		}
		if same(q, orig) {
			t.Errorf("%q replaced by %q: the same query", m.old, m.new)
		}
	}
}
