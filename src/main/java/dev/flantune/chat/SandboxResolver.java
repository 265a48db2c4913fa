package dev.flantune.chat;

import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.util.ForLoop;
import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * What a template's expressions may reach: keys of maps, items of lists, the {@code loop}
 * variable's fields, the engine's own filters and tests, and the Python string and dict methods
 * chat templates call ({@link PyMethods}). Nothing else: jinjava would otherwise call any public
 * Java method on any object ({@code x.getClass()}, {@code x.toUpperCase()}), so every other method
 * call stops the render with an error naming it, and other attributes are undefined, as a missing
 * attribute is in Jinja.
 */
final class SandboxResolver extends CompositeELResolver {
  private final ELResolver beans = new JinjavaBeanELResolver(true);

  SandboxResolver() {
    add(new JinjavaListELResolver(true));
    add(new TypeConvertingMapELResolver(true));
    add(new Rest());
  }

  /** After the map and list resolvers: the loop variable, engine callables, Python methods. */
  private final class Rest extends ELResolver {
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
      if (base == null) return null;
      if (base instanceof ForLoop) return beans.getValue(context, base, property);
      context.setPropertyResolved(true); // any other attribute: undefined, as in Jinja
      return null;
    }

    @Override
    public Object invoke(
        ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
      if (base == null) return null;
      String name = String.valueOf(method);
      if (base instanceof Filter || base instanceof ExpTest) {
        return beans.invoke(
            context, base, method, types, params); // the engine's own |filter, is test
      }
      if (base instanceof ForLoop && name.equals("cycle")) {
        return beans.invoke(context, base, method, types, params);
      }
      Object[] args = params == null ? new Object[0] : params;
      Object self = base instanceof SafeString s ? s.getValue() : base;
      context.setPropertyResolved(true);
      if (self instanceof String s) return PyMethods.str(s, name, args);
      if (self instanceof Map<?, ?> m) return PyMethods.dict(m, name, args);
      if (self instanceof List<?>) {
        RenderGuard.current().trip("the list method '" + name + "()' is not supported");
      }
      RenderGuard.current()
          .trip(
              "calling '"
                  + name
                  + "()' on a "
                  + PyMethods.typeName(self)
                  + " is not allowed: a chat template sees data only");
      return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
      return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
      return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
      return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
      return Object.class;
    }
  }
}
