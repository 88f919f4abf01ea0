package manifest

import (
	"bytes"
	"testing"
)

// FuzzLoad: whatever the bytes, Load must not panic or hang, and every
// problem must carry a position.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n",
		"---\n--- {kind: x}\n...\n",
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}\n",
		"kind: List\napiVersion: v1\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: p}}]\n",
		"a: &x [*x]\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: !!binary aGk=}\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"x\":1}}",
		"\xff\xfea\x00:\x00 \x00&\x00x\x00 \x00[\x00*\x00x\x00]\x00\n\x00", // UTF-16 with an alias
		"\xfe\xff\x00k\x00i\x00n\x00d\x00:\x00 \xd8\x3d\xde\x00",           // UTF-16 BE, a surrogate pair
	} {
		f.Add([]byte(seed))
	}
	f.Add([]byte(laughs(9)))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Load([]string{"-"}, Options{Stdin: bytes.NewReader(data)})
		if err != nil {
			return
		}
		for _, p := range res.Problems {
			if p.Pos.File == "" || p.Message == "" {
				t.Fatalf("problem without position or message: %+v", p)
			}
		}
		for _, o := range res.Objects {
			_ = o.Pos("spec", "a", 0, "b")
		}
	})
}
