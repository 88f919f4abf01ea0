package mesh

import "strings"

// Container image references: [registry[:port]/]path/name[:tag][@digest].
// https://github.com/distribution/reference/blob/main/reference.go

// ImageName is the repository's last path element without tag or digest,
// lower-cased: "docker.io/bitnami/mysql:8.0" -> "mysql". It is what tells
// which software an image runs, whoever publishes it.
func ImageName(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, '/'); i >= 0 {
		image = image[i+1:]
	}
	if i := strings.IndexByte(image, ':'); i >= 0 {
		image = image[:i]
	}
	return strings.ToLower(image)
}

// ImageTag is the tag of an image reference, "" when it has none (a colon
// before the last "/" belongs to a registry port).
func ImageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return image[i+1:]
}
