package transform

import (
	"github.com/dop251/goja"
)

// guardBuiltins wraps the built-ins that allocate a result of a size their arguments choose in
// one native step, which the watchdog cannot interrupt half-way: they refuse results larger
// than the memory cap before allocating (strings count two bytes a character, array elements
// sixteen).
//
// The binary built-ins (ArrayBuffer, the typed arrays, DataView) are removed: they allocate
// their whole size at once, and a webhook's payload is JSON.
func guardBuiltins(vm *goja.Runtime, memory int64) {
	for _, name := range []string{"ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array",
		"Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array",
		"Float64Array", "BigInt64Array", "BigUint64Array"} {
		_ = vm.GlobalObject().Delete(name)
	}
	refuse := func(what string) {
		panic(vm.NewGoError(failf("transformation asked %s for more than its memory cap of %d MiB", what, memory>>20)))
	}
	strProto := vm.Get("String").ToObject(vm).Get("prototype").ToObject(vm)
	wrap := func(proto *goja.Object, name string, size func(this goja.Value, args []goja.Value) int64) {
		orig, ok := goja.AssertFunction(proto.Get(name))
		if !ok {
			return
		}
		_ = proto.Set(name, func(call goja.FunctionCall) goja.Value {
			if size(call.This, call.Arguments) > memory {
				refuse(name)
			}
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		})
	}
	length := func(v goja.Value) int64 {
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return 0
		}
		return int64(len(v.String()))
	}
	count := func(args []goja.Value, i int) int64 {
		if i >= len(args) {
			return 0
		}
		f := args[i].ToFloat()
		if f != f || f < 0 {
			return 0
		}
		if f > 1<<53 {
			return 1 << 53
		}
		return int64(f)
	}
	wrap(strProto, "repeat", func(this goja.Value, args []goja.Value) int64 {
		n := count(args, 0)
		l := length(this)
		if l == 0 || n == 0 {
			return 0
		}
		if n > (1<<53)/l {
			return 1 << 53
		}
		return 2 * n * l
	})
	pad := func(this goja.Value, args []goja.Value) int64 { return 2 * count(args, 0) }
	wrap(strProto, "padStart", pad)
	wrap(strProto, "padEnd", pad)

	arrProto := vm.Get("Array").ToObject(vm).Get("prototype").ToObject(vm)
	wrap(arrProto, "fill", func(this goja.Value, args []goja.Value) int64 {
		o, ok := this.(*goja.Object)
		if !ok {
			return 0
		}
		l := o.Get("length")
		if l == nil {
			return 0
		}
		return 16 * count([]goja.Value{l}, 0)
	})
	wrap(arrProto, "join", func(this goja.Value, args []goja.Value) int64 {
		o, ok := this.(*goja.Object)
		if !ok {
			return 0
		}
		sep := int64(1)
		if len(args) > 0 && !goja.IsUndefined(args[0]) {
			sep = length(args[0])
		}
		return 2 * sep * count([]goja.Value{o.Get("length")}, 0)
	})
	arrCtor := vm.Get("Array").ToObject(vm)
	wrap(arrCtor, "from", func(this goja.Value, args []goja.Value) int64 {
		if len(args) == 0 {
			return 0
		}
		o, ok := args[0].(*goja.Object)
		if !ok {
			return 2 * length(args[0])
		}
		return 16 * count([]goja.Value{o.Get("length")}, 0)
	})
}
