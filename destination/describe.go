package destination

// Description says what a type is for people: its name, the shape of its URL and its options,
// so the dashboard can make its form from it and a new type needs no new page.
type Description struct {
	// Title is the broker's name as people know it ("Redis Streams").
	Title string
	// URLPlaceholder is an example connection URL without credentials.
	URLPlaceholder string
	// URLHint says which schemes the URL takes and what its path means.
	URLHint string
	// TokenAuth: a password given without a user name is a token, which the URL carries as
	// its user name (NATS's nats://token@host).
	TokenAuth bool
	// Options are the type's options, in the order a form shows them.
	Options []Option
}

// Option is one option of a type.
type Option struct {
	// Name is its key in Destination.Options.
	Name        string
	Label       string
	Hint        string
	Placeholder string
	// Required: the type refuses a destination without it (Check says so).
	Required bool
	// Choices are the only values it takes, the default first ("" for a default that depends on
	// the rest); empty: any text.
	Choices []string
}

// Describer is implemented by types that describe themselves. A type without it gets a plain
// form: its URL and its options as name=value lines.
type Describer interface {
	Describe() Description
}

// Describe returns the description of the type called name, and whether it has one of its own;
// without one, the description has only the title (the name).
func Describe(name string) (Description, bool) {
	if t, ok := Lookup(name); ok {
		if d, ok := t.(Describer); ok {
			desc := d.Describe()
			if desc.Title == "" {
				desc.Title = name
			}
			return desc, true
		}
	}
	return Description{Title: name}, false
}
