package workload

import (
	"fmt"

	"github.com/meshdoctor/meshdoctor/internal/finding"
	"github.com/meshdoctor/meshdoctor/internal/manifest"
	"github.com/meshdoctor/meshdoctor/internal/mesh"
)

// The kinds whose annotations the annotation rules read (mesh.IstioAnnotations).
var annotatedKinds = []string{"Namespace", "Service", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ServiceEntry", "WorkloadEntry", "AuthorizationPolicy"}

// annotationAt is a finding on the line of an annotation's key.
func annotationAt(u mesh.AnnotationUse) finding.Finding {
	return finding.Finding{Resource: u.Object.Ref(), Origin: u.Object.Pos(u.Path...)}
}

// annotationWhere names the place an annotation is written, for messages:
// "the pod template of Deployment shop/web", "Namespace shop".
func annotationWhere(u mesh.AnnotationUse) string {
	name := u.Object.Name
	if u.Object.Namespace != "" && u.Object.Kind != "Namespace" {
		name = u.Object.Namespace + "/" + name
	}
	if u.OnPodTemplate() {
		return fmt.Sprintf("the pod template of %s %s", u.Object.Kind, name)
	}
	return fmt.Sprintf("%s %s", u.Object.Kind, name)
}

// annotationsField is the YAML path to the annotations an annotation is
// written in, for fixes ("spec.template.metadata.annotations").
func annotationsField(u mesh.AnnotationUse) string {
	if u.OnPodTemplate() {
		return manifest.PathString(u.Workload.PodPath()) + ".metadata.annotations"
	}
	return "metadata.annotations"
}
