package v1

// ImageRole says which stack of a run an image belongs to.
type ImageRole string

// The roles of a run's images.
const (
	// ImageCandidate is an image of the candidate version: what a promotion deploys.
	ImageCandidate ImageRole = "candidate"
	// ImageBase is an image of the upgrade tier's base version.
	ImageBase ImageRole = "base"
	// ImageRequired is an image of a throw-away required app (spec.requires).
	ImageRequired ImageRole = "required"
)

// RunImage is one service's image in a run, resolved once before the run's first deploy.
type RunImage struct {
	// Role says whose stack the service is in: candidate, base or required.
	Role ImageRole `json:"role"`
	// Service is the compose service key, such as app (for a required app, name/service).
	Service string `json:"service"`
	// Image is the reference as the compose file writes it, such as nginx:1.27.
	Image string `json:"image"`
	// Digest is the manifest digest its registry answered (sha256:…); the service ran
	// Image@Digest. Empty for a local image.
	Digest string `json:"digest,omitempty"`
	// ID is the local image ID of an image no registry knows (built on the host), deployed by
	// tag. Empty for a registry's image.
	ID string `json:"id,omitempty"`
}

// Identity is what names the image's bytes: its digest, else its local ID.
func (i RunImage) Identity() string {
	if i.Digest != "" {
		return i.Digest
	}
	return i.ID
}

// CandidateDigests maps each registry image of the run's candidate to its digest: what a
// promotion of the run deploys. Local images are not listed; they deploy by tag. Nil when
// there is none.
func (r Run) CandidateDigests() map[string]string {
	var out map[string]string
	for _, img := range r.Images {
		if img.Role == ImageCandidate && img.Digest != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[img.Image] = img.Digest
		}
	}
	return out
}
